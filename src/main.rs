fn main() {
    println!("sop");
}
