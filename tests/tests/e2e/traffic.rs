//! Issue "Real traffic to real S3": many clients at once, big objects, ranges,
//! revalidation, through real Squid and s3s-fs.

use std::sync::{Arc, Barrier};

use s3squid::squid_conf::Layout;
use s3squid_e2e::squid::{Stack, StackOptions};
use s3squid_e2e::Sandbox;

/// Clients asking for one cold object at the same moment.
const STAMPEDE: usize = 50;

/// An object whose bytes differ at every offset (so a wrong range or a mixed-up body
/// shows): `len` bytes, each its offset's low byte mixed with the offset's higher bits.
pub fn patterned(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8) ^ ((i >> 8) as u8).wrapping_mul(31) ^ ((i >> 16) as u8))
        .collect()
}

/// [`STAMPEDE`] clients ask for the same cold 4 MiB object at once: every one gets the
/// whole object, and S3 is asked once (collapsed forwarding in the samples).
fn stampede(layout: Layout) {
    let sb = Sandbox::new(&format!("stampede-{}", layout.as_str()));
    let st = Arc::new(Stack::start(&sb, layout, StackOptions::default()));
    let body = Arc::new(patterned(4 << 20));
    st.s3.put("photos", "cold/video.bin", &body);
    let start = Arc::new(Barrier::new(STAMPEDE));
    let clients: Vec<_> = (0..STAMPEDE)
        .map(|_| {
            let (st, start) = (st.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                st.get("/photos/cold/video.bin")
            })
        })
        .collect();
    for c in clients {
        let r = c.join().unwrap();
        assert_eq!(r.status, 200);
        assert!(r.body == *body, "a client got {} wrong bytes", r.body.len());
    }
    assert_eq!(
        st.s3.count("GetObject", "cold/video.bin"),
        1,
        "{STAMPEDE} clients, one GetObject"
    );
}

#[test]
fn stampede_single() {
    stampede(Layout::Single);
}

#[test]
fn stampede_two_tier() {
    stampede(Layout::TwoTier);
}
