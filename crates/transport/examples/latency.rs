use mdxconf_testkit::SshdFleet;
use std::time::Instant;
#[tokio::main]
async fn main() {
    let t0 = Instant::now();
    let fleet = SshdFleet::start(1).unwrap();
    println!("fleet {:?}", t0.elapsed());
    let t0 = Instant::now();
    let c = mdxconf_transport::connect_ssh(&fleet.target(0)).await.unwrap();
    println!("connect {:?}", t0.elapsed());
    for _ in 0..5 {
        let t0 = Instant::now();
        c.exec("true", None).await.unwrap();
        println!("exec {:?}", t0.elapsed());
    }
    let t0 = Instant::now();
    c.exec("cat >/dev/null", Some(vec![0u8; 100000])).await.unwrap();
    println!("exec stdin {:?}", t0.elapsed());
}
