//! rpm's own `Packages.db` ("NDB", SUSE since 15 SP3), read-only from
//! bytes. Layout (rpm's `lib/backend/ndb/rpmpkg.c`): a header (magic
//! `RpmP`, version 0, generation, slot page count) that takes the first two
//! of the slots; slot pages of 4,096 bytes holding 16-byte slots (magic
//! `Slot`, package index, block offset, block count); each used slot points
//! at a blob in 16-byte blocks: magic `BlbS`, package index, checksum,
//! length, then the header. Little-endian.

use super::{MAX_PACKAGES, RpmError};

const SLOTS_PER_PAGE: usize = 4096 / 16;
const MAX_SLOT_PAGES: usize = 2048;
const BLOCK: usize = 16;
const MAX_BLOB: usize = 64 << 20;

fn not(why: impl Into<String>) -> RpmError {
    RpmError::NotADatabase {
        format: "NDB",
        why: why.into(),
    }
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The header blobs of a `Packages.db`.
pub fn blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, RpmError> {
    if bytes.get(..4) != Some(b"RpmP") {
        return Err(not("no RpmP magic"));
    }
    if le32(bytes, 4) != Some(0) {
        return Err(not(format!("version {:?}", le32(bytes, 4))));
    }
    let pages = le32(bytes, 12).unwrap_or(0) as usize;
    if pages == 0 {
        return Err(not("no slot pages"));
    }
    if pages > MAX_SLOT_PAGES {
        return Err(RpmError::Ceiling {
            what: "the slot pages of Packages.db",
            limit: MAX_SLOT_PAGES.to_string(),
        });
    }
    let mut out = Vec::new();
    // The first two slots are the header itself.
    for i in 2..pages * SLOTS_PER_PAGE {
        let at = i * 16;
        let Some(slot) = bytes.get(at..at + 16) else {
            // Slot pages cut short: what was read stands.
            break;
        };
        if &slot[..4] != b"Slot" {
            return Err(not(format!("slot {i} has no Slot magic")));
        }
        let (Some(pkg), Some(offset)) = (le32(slot, 4), le32(slot, 8)) else {
            continue;
        };
        if pkg == 0 {
            continue;
        }
        let start = offset as usize * BLOCK;
        let Some(head) = bytes.get(start..start + 16) else {
            continue;
        };
        if &head[..4] != b"BlbS" || le32(head, 4) != Some(pkg) {
            continue;
        }
        let len = le32(head, 12).unwrap_or(0) as usize;
        if len > MAX_BLOB {
            return Err(RpmError::Ceiling {
                what: "one blob of Packages.db",
                limit: format!("{} MiB", MAX_BLOB >> 20),
            });
        }
        if let Some(blob) = bytes.get(start + 16..start + 16 + len) {
            out.push(blob.to_vec());
        }
        if out.len() > MAX_PACKAGES {
            return Err(RpmError::Ceiling {
                what: "the packages of Packages.db",
                limit: MAX_PACKAGES.to_string(),
            });
        }
    }
    Ok(out)
}

/// A `Packages.db` holding these header blobs, as rpm lays it out (for
/// tests and the fuzz corpus: no tool on a Debian machine writes NDB).
pub fn write(headers: &[Vec<u8>]) -> Vec<u8> {
    let pages = 1;
    let mut out = vec![0u8; pages * 4096];
    out[..4].copy_from_slice(b"RpmP");
    out[12..16].copy_from_slice(&(pages as u32).to_le_bytes());
    for i in 2..pages * SLOTS_PER_PAGE {
        out[i * 16..i * 16 + 4].copy_from_slice(b"Slot");
    }
    for (k, h) in headers.iter().enumerate() {
        let pkg = k as u32 + 1;
        let offset = out.len() / BLOCK;
        let slot = (k + 2) * 16;
        out[slot + 4..slot + 8].copy_from_slice(&pkg.to_le_bytes());
        out[slot + 8..slot + 12].copy_from_slice(&(offset as u32).to_le_bytes());
        let blocks = (16 + h.len() + 16).div_ceil(BLOCK);
        out[slot + 12..slot + 16].copy_from_slice(&(blocks as u32).to_le_bytes());
        out.extend(b"BlbS");
        out.extend(pkg.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((h.len() as u32).to_le_bytes());
        out.extend(h);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK + BLOCK, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vulndb::rpmdb::{self, Format, tests::pkg};

    #[test]
    fn packages_db_round_trip_and_cut_short() {
        let db = write(&[
            pkg(
                "zypper",
                "1.14.68",
                "150500.1.1",
                "zypper-1.14.68-150500.1.1.src.rpm",
                None,
            ),
            pkg(
                "libopenssl3",
                "3.0.8",
                "150500.5.8.1",
                "openssl-3-3.0.8-150500.5.8.1.src.rpm",
                None,
            ),
        ]);
        let r = rpmdb::read(Format::Ndb, &db).unwrap();
        let names: Vec<(String, String)> = r
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.source_name()))
            .collect();
        assert_eq!(
            names,
            [
                ("libopenssl3".to_string(), "openssl-3".to_string()),
                ("zypper".to_string(), "zypper".to_string())
            ]
        );
        for cut in [0, 3, 16, 100, 4096, 4100, db.len() - 1] {
            let _ = rpmdb::read(Format::Ndb, &db[..cut]);
        }
        let last = db.windows(4).rposition(|w| w == b"BlbS").unwrap();
        let half = rpmdb::read(Format::Ndb, &db[..last + 20]).unwrap();
        assert_eq!(half.packages.len(), 1);
    }
}
