# just a comment
    # indented comment
/* block */
