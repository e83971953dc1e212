fn main() {
    eprintln!("terrane: the CLI is being written");
    std::process::exit(1);
}
