a = 1
/* unterminated
