//! BerkeleyDB's hash format, read-only from bytes: the values of rpm's
//! `Packages` database (rpm up to 4.15: RHEL 7 and 8, CentOS, Amazon
//! Linux 2). Only what rpm stores is read: every hash page's values that
//! live off-page (a header is always larger than a page), each the chain of
//! overflow pages that holds it.
//!
//! Layout (BerkeleyDB's `db_page.h`): page 0 is the hash metadata page
//! (magic `0x061561`, page size, last page number); every page starts with
//! a 26-byte header (next page at 16, entry count at 20, high free offset
//! at 22, page type at 25); a hash page's entries are key/value offsets; an
//! off-page value is `type 3, pad, page number, total length`. The file is
//! in the byte order of the machine that wrote it: both are read.

use std::collections::HashSet;

use super::{MAX_PACKAGES, RpmError};

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_OFFPAGE: u8 = 3;
/// The largest value kept (a header is under 1 MiB in practice).
const MAX_VALUE: usize = 64 << 20;

fn not(why: impl Into<String>) -> RpmError {
    RpmError::NotADatabase {
        format: "BerkeleyDB",
        why: why.into(),
    }
}

struct Db<'a> {
    bytes: &'a [u8],
    page_size: usize,
    last: u32,
    swapped: bool,
}

impl<'a> Db<'a> {
    fn u32(&self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.swapped {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }

    fn u16(&self, b: &[u8], at: usize) -> Option<usize> {
        let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(usize::from(if self.swapped {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        }))
    }

    fn page(&self, n: u32) -> Option<&'a [u8]> {
        let start = (n as usize).checked_mul(self.page_size)?;
        self.bytes.get(start..start.checked_add(self.page_size)?)
    }

    /// The value stored in the overflow chain starting at `first`.
    fn overflow(&self, first: u32, total: usize) -> Result<Vec<u8>, RpmError> {
        if total > MAX_VALUE {
            return Err(RpmError::Ceiling {
                what: "one value of the Packages database",
                limit: format!("{} MiB", MAX_VALUE >> 20),
            });
        }
        let mut out = Vec::with_capacity(total.min(1 << 20));
        let mut seen = HashSet::new();
        let mut n = first;
        while n != 0 {
            if !seen.insert(n) {
                return Err(not("an overflow chain that loops"));
            }
            let p = self
                .page(n)
                .ok_or_else(|| not(format!("a reference to page {n} past the end of the file")))?;
            if p[25] != P_OVERFLOW {
                return Err(not(format!("page {n} is not an overflow page")));
            }
            let next = self.u32(p, 16).unwrap_or(0);
            let used = if next == 0 {
                self.u16(p, 22).unwrap_or(0)
            } else {
                self.page_size - PAGE_HEADER
            };
            let chunk = p
                .get(PAGE_HEADER..PAGE_HEADER + used)
                .ok_or_else(|| not(format!("overflow page {n} says it holds more than it can")))?;
            out.extend_from_slice(chunk);
            if out.len() > MAX_VALUE {
                return Err(RpmError::Ceiling {
                    what: "one value of the Packages database",
                    limit: format!("{} MiB", MAX_VALUE >> 20),
                });
            }
            n = next;
        }
        out.truncate(total);
        Ok(out)
    }
}

/// Every off-page value of a BerkeleyDB hash database: rpm's headers.
pub fn values(bytes: &[u8]) -> Result<Vec<Vec<u8>>, RpmError> {
    let meta = bytes
        .get(..512)
        .ok_or_else(|| not("shorter than its metadata page"))?;
    let magic_le = u32::from_le_bytes([meta[12], meta[13], meta[14], meta[15]]);
    let magic_be = u32::from_be_bytes([meta[12], meta[13], meta[14], meta[15]]);
    let swapped = match (magic_le == HASH_MAGIC, magic_be == HASH_MAGIC) {
        (true, _) => false,
        (_, true) => true,
        _ => return Err(not("no hash magic number (a B-tree or another file)")),
    };
    let mut db = Db {
        bytes,
        page_size: 0,
        last: 0,
        swapped,
    };
    let page_size = db.u32(meta, 20).unwrap_or(0) as usize;
    if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
        return Err(not(format!("page size {page_size}")));
    }
    if meta[25] != P_HASHMETA {
        return Err(not(format!(
            "page 0 is of type {}, not hash metadata",
            meta[25]
        )));
    }
    // The file may say more pages than it has (truncated): read what is there.
    let in_file = u32::try_from(bytes.len() / page_size).unwrap_or(u32::MAX);
    db.page_size = page_size;
    db.last = db.u32(meta, 32).unwrap_or(0).min(in_file.saturating_sub(1));
    let mut out = Vec::new();
    let mut truncated = false;
    for n in 1..=db.last {
        let Some(p) = db.page(n) else { break };
        if p[25] != P_HASH && p[25] != P_HASH_UNSORTED {
            continue;
        }
        let entries = db.u16(p, 20).unwrap_or(0);
        // Key, value, key, value: the values are the odd entries.
        for i in (1..entries).step_by(2) {
            let Some(at) = db.u16(p, PAGE_HEADER + 2 * i) else {
                break;
            };
            if p.get(at) != Some(&H_OFFPAGE) {
                continue;
            }
            let (Some(first), Some(total)) = (db.u32(p, at + 4), db.u32(p, at + 8)) else {
                continue;
            };
            match db.overflow(first, total as usize) {
                Ok(v) => out.push(v),
                // A chain into pages the file does not have: the file was
                // cut short; what was read stands.
                Err(RpmError::NotADatabase { .. }) if first > db.last => truncated = true,
                Err(e) => return Err(e),
            }
            if out.len() > MAX_PACKAGES {
                return Err(RpmError::Ceiling {
                    what: "the values of the Packages database",
                    limit: MAX_PACKAGES.to_string(),
                });
            }
        }
    }
    if out.is_empty() && truncated {
        return Err(not("the file is cut short before its first package"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_files_are_not_databases() {
        assert!(values(b"short").is_err());
        assert!(values(&[0u8; 4096]).is_err());
        // A B-tree database (magic 0x053162) is not rpm's hash.
        let mut bt = vec![0u8; 4096];
        bt[12..16].copy_from_slice(&0x0005_3162u32.to_le_bytes());
        assert!(values(&bt).is_err());
    }
}
