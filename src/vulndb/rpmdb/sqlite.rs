//! Just enough of SQLite's file format to read one table read-only from
//! bytes: the `Packages` table of `rpmdb.sqlite` (`hnum INTEGER PRIMARY
//! KEY`, `blob BLOB`). A dozen lines of format beat a C library opening a
//! hostile file: pages are taken by number from the bytes there are, each
//! page is visited once (a loop of pages is an error, not a hang), and an
//! overflow chain can be no longer than the file.
//!
//! The format: <https://www.sqlite.org/fileformat2.html> — a header of 100
//! bytes, then pages; the schema table's B-tree is rooted on page 1, every
//! table is a B-tree of interior pages (`0x05`) and leaf pages (`0x0d`)
//! whose cells hold a row's record, spilling into overflow pages when large.
//! Changes still in a `-wal` file are not read (rpm checkpoints when it
//! closes the database).

use std::collections::HashSet;

use super::{MAX_PACKAGES, RpmError};

/// The largest row kept (rpm's own ceiling on one header is 256 MiB;
/// real ones are under 1 MiB).
const MAX_ROW: u64 = 64 << 20;

fn not(why: impl Into<String>) -> RpmError {
    RpmError::NotADatabase {
        format: "SQLite",
        why: why.into(),
    }
}

/// One column's value in a record.
#[derive(Debug, Clone, PartialEq)]
enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
    Other,
}

/// A database file in memory.
struct Db<'a> {
    bytes: &'a [u8],
    page_size: usize,
    usable: usize,
    pages: u32,
}

/// A SQLite varint at `at`: the value and the bytes it took.
fn varint(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(at + i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([s[0], s[1]])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Db<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, RpmError> {
        if bytes.len() < 100 || &bytes[..16] != b"SQLite format 3\0" {
            return Err(not("no SQLite header"));
        }
        let page_size = match be16(bytes, 16) {
            Some(1) => 65536,
            Some(n) if n.is_power_of_two() && (512..=32768).contains(&n) => n,
            other => return Err(not(format!("page size {other:?}"))),
        };
        let usable = page_size - usize::from(bytes[20]);
        if usable < 480 {
            return Err(not(format!("{usable} usable bytes per page")));
        }
        let pages = u32::try_from(bytes.len() / page_size).unwrap_or(u32::MAX);
        Ok(Self {
            bytes,
            page_size,
            usable,
            pages,
        })
    }

    fn page(&self, n: u32) -> Result<&'a [u8], RpmError> {
        if n == 0 || n > self.pages {
            return Err(not(format!(
                "a reference to page {n} of a file of {} pages",
                self.pages
            )));
        }
        let start = (n as usize - 1) * self.page_size;
        Ok(&self.bytes[start..start + self.page_size])
    }

    /// A cell's payload of `total` bytes whose local part starts at `at`
    /// on `page`: the local bytes, then the overflow chain.
    fn payload(&self, page: &[u8], at: usize, total: u64) -> Result<Vec<u8>, RpmError> {
        if total > MAX_ROW {
            return Err(RpmError::Ceiling {
                what: "one row of the Packages table",
                limit: format!("{} MiB", MAX_ROW >> 20),
            });
        }
        let total = total as usize;
        let u = self.usable;
        let x = u - 35;
        let local = if total <= x {
            total
        } else {
            let m = ((u - 12) * 32 / 255) - 23;
            let k = m + ((total - m) % (u - 4));
            if k <= x { k } else { m }
        };
        let mut out = Vec::with_capacity(total.min(1 << 20));
        out.extend_from_slice(
            page.get(at..at + local)
                .ok_or_else(|| not("a cell that runs past its page"))?,
        );
        if local == total {
            return Ok(out);
        }
        let mut next =
            be32(page, at + local).ok_or_else(|| not("a cell without its overflow page"))?;
        let mut seen = HashSet::new();
        while out.len() < total {
            if !seen.insert(next) {
                return Err(not("an overflow chain that loops"));
            }
            let p = self.page(next)?;
            let take = (total - out.len()).min(u - 4);
            out.extend_from_slice(&p[4..4 + take]);
            next = be32(p, 0).unwrap_or(0);
            if next == 0 && out.len() < total {
                return Err(not("an overflow chain that ends early"));
            }
        }
        Ok(out)
    }

    /// Every row of the table B-tree rooted at `root`: its record bytes.
    fn rows(
        &self,
        root: u32,
        mut visit: impl FnMut(Vec<u8>) -> Result<(), RpmError>,
    ) -> Result<(), RpmError> {
        let mut stack = vec![root];
        let mut seen = HashSet::new();
        let mut rows = 0usize;
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                return Err(not(format!(
                    "page {n} is reached twice (a loop in the tree)"
                )));
            }
            let page = self.page(n)?;
            let h = if n == 1 { 100 } else { 0 };
            let kind = *page.get(h).ok_or_else(|| not("an empty page"))?;
            let cells = be16(page, h + 3).ok_or_else(|| not("a page header past the page"))?;
            match kind {
                0x0d => {
                    for i in 0..cells {
                        let at = be16(page, h + 8 + 2 * i)
                            .ok_or_else(|| not("a cell pointer past the page"))?;
                        let (size, a) =
                            varint(page, at).ok_or_else(|| not("a cell past the page"))?;
                        let (_rowid, b) =
                            varint(page, at + a).ok_or_else(|| not("a cell past the page"))?;
                        rows += 1;
                        if rows > MAX_PACKAGES {
                            return Err(RpmError::Ceiling {
                                what: "the rows of the Packages table",
                                limit: MAX_PACKAGES.to_string(),
                            });
                        }
                        visit(self.payload(page, at + a + b, size)?)?;
                    }
                }
                0x05 => {
                    let right =
                        be32(page, h + 8).ok_or_else(|| not("a page header past the page"))?;
                    stack.push(right);
                    for i in (0..cells).rev() {
                        let at = be16(page, h + 12 + 2 * i)
                            .ok_or_else(|| not("a cell pointer past the page"))?;
                        stack.push(be32(page, at).ok_or_else(|| not("a cell past the page"))?);
                    }
                }
                other => {
                    return Err(not(format!(
                        "page {n} is of kind {other:#x}, not a table page"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The columns of one record.
fn record(r: &[u8]) -> Option<Vec<Value<'_>>> {
    let (header_len, mut at) = varint(r, 0)?;
    let header_len = usize::try_from(header_len).ok()?;
    if header_len > r.len() {
        return None;
    }
    let mut body = header_len;
    let mut out = Vec::new();
    while at < header_len {
        let (t, n) = varint(r, at)?;
        at += n;
        let (len, value): (usize, fn(&[u8]) -> Value<'_>) = match t {
            0 => (0, |_| Value::Null),
            1..=6 => {
                let len = [0, 1, 2, 3, 4, 6, 8][t as usize];
                (len, |b: &[u8]| {
                    let mut v: i64 = if b.first().is_some_and(|x| x & 0x80 != 0) {
                        -1
                    } else {
                        0
                    };
                    for x in b {
                        v = (v << 8) | i64::from(*x);
                    }
                    Value::Int(v)
                })
            }
            7 => (8, |_| Value::Other),
            8 => (0, |_| Value::Int(0)),
            9 => (0, |_| Value::Int(1)),
            t if t >= 12 && t % 2 == 0 => (usize::try_from((t - 12) / 2).ok()?, |b| Value::Blob(b)),
            t if t >= 13 => (usize::try_from((t - 13) / 2).ok()?, |b| Value::Text(b)),
            _ => return None,
        };
        let bytes = r.get(body..body.checked_add(len)?)?;
        out.push(value(bytes));
        body += len;
    }
    Some(out)
}

/// The header blobs of `rpmdb.sqlite`'s `Packages` table.
pub fn package_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, RpmError> {
    let db = Db::open(bytes)?;
    let mut root = None;
    db.rows(1, |r| {
        if let Some(cols) = record(&r)
            && let (
                Some(Value::Text(b"table")),
                Some(Value::Text(b"Packages")),
                Some(Value::Int(p)),
            ) = (cols.first(), cols.get(1), cols.get(3))
        {
            root = u32::try_from(*p).ok();
        }
        Ok(())
    })?;
    let root = root.ok_or_else(|| not("no Packages table"))?;
    let mut out = Vec::new();
    db.rows(root, |r| {
        if let Some([_, Value::Blob(b), ..]) = record(&r).as_deref() {
            out.push(b.to_vec());
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_as_sqlite_writes_them() {
        assert_eq!(varint(&[0x05], 0), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00], 0), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9], 0), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81], 0), None);
    }

    #[test]
    fn not_sqlite_is_said() {
        assert!(matches!(
            package_blobs(b"hello"),
            Err(RpmError::NotADatabase { .. })
        ));
        let mut h = b"SQLite format 3\0".to_vec();
        h.resize(100, 0);
        assert!(package_blobs(&h).is_err());
    }
}
