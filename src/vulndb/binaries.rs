//! What compiled programs say they were built from: the module list a Go
//! executable embeds (its build information, with the Go version), and the
//! dependency list `cargo auditable` embeds in a Rust one. Pure: read
//! through [`At`] (a file, or bytes in memory), packages out.
//!
//! An executable was written by the image's author: every offset and
//! length is checked against the file, only the sections needed are read
//! (a few KiB of a 50 MB binary), compressed data is inflated up to a
//! ceiling, and anything that does not fit is an error with a reason
//! (fuzz target `fuzz::binaries`).

use std::io::Read;

use crate::model::packages::{Ecosystem, Package};

/// The most bytes of one section read (build information is a few KiB;
/// a large service's module list some tens).
const MAX_SECTION: u64 = 4 << 20;
/// The most bytes `cargo auditable`'s compressed list may inflate to.
const MAX_INFLATED: u64 = 8 << 20;
/// The most modules or crates kept from one executable.
const MAX_DEPS: usize = 20_000;
/// The longest name or version kept.
const MAX_FIELD: usize = 512;

/// Random access to an executable's bytes.
pub trait At {
    /// Its length in bytes.
    fn len(&self) -> u64;
    /// Whether it has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fill `buf` from offset `at`.
    fn read_at(&self, at: u64, buf: &mut [u8]) -> std::io::Result<()>;
}

impl At for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let s = usize::try_from(at)
            .ok()
            .and_then(|a| self.get(a..a.checked_add(<[u8]>::len(buf))?))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(s);
        Ok(())
    }
}

impl<T: AsRef<[u8]>> At for std::io::Cursor<T> {
    fn len(&self) -> u64 {
        self.get_ref().as_ref().len() as u64
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.get_ref().as_ref().read_at(at, buf)
    }
}

impl<T: At + ?Sized> At for &mut T {
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        (**self).read_at(at, buf)
    }
}

impl At for std::fs::File {
    fn len(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, at)
    }
}

/// Why an executable's build information could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinError {
    /// Not an ELF file.
    #[error("not an ELF executable")]
    NotElf,
    /// The ELF structure does not fit the file.
    #[error("a broken ELF file: {0}")]
    Broken(String),
    /// The build information is there but does not parse.
    #[error("{what} does not parse: {why}")]
    BadInfo {
        /// Which information.
        what: &'static str,
        /// Why.
        why: String,
    },
    /// A ceiling stopped the read.
    #[error("{what} is over the ceiling of {limit}")]
    Ceiling {
        /// Which ceiling.
        what: &'static str,
        /// Its value.
        limit: String,
    },
}

fn read<A: At + ?Sized>(f: &A, at: u64, len: u64) -> Result<Vec<u8>, BinError> {
    if len > MAX_SECTION {
        return Err(BinError::Ceiling {
            what: "a section",
            limit: format!("{} MiB", MAX_SECTION >> 20),
        });
    }
    if at.checked_add(len).is_none_or(|end| end > f.len()) {
        return Err(BinError::Broken(format!(
            "{len} bytes at {at} are past the end of the file ({} bytes)",
            f.len()
        )));
    }
    let mut buf = vec![0u8; len as usize];
    f.read_at(at, &mut buf)
        .map_err(|e| BinError::Broken(e.to_string()))?;
    Ok(buf)
}

/// One section of an ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Its name.
    pub name: String,
    /// Its address when loaded.
    pub addr: u64,
    /// Where its bytes are in the file.
    pub offset: u64,
    /// How many.
    pub size: u64,
    /// Whether it has bytes in the file (not `SHT_NOBITS`).
    pub in_file: bool,
}

/// One loadable segment (for addresses in old Go build information).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    vaddr: u64,
    offset: u64,
    filesz: u64,
    writable: bool,
}

/// The parts of an ELF file this reads.
#[derive(Debug, Clone)]
pub struct Elf {
    big_endian: bool,
    /// Its sections.
    pub sections: Vec<Section>,
    segments: Vec<Segment>,
}

/// Whether these first bytes are an ELF file's.
pub fn is_elf(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
}

impl Elf {
    fn u16(&self, b: &[u8], at: usize) -> u64 {
        let s = [b[at], b[at + 1]];
        u64::from(if self.big_endian {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    }
    fn u32(&self, b: &[u8], at: usize) -> u64 {
        let s = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        u64::from(if self.big_endian {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }
    fn u64(&self, b: &[u8], at: usize) -> u64 {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[at..at + 8]);
        if self.big_endian {
            u64::from_be_bytes(s)
        } else {
            u64::from_le_bytes(s)
        }
    }

    /// Reads the ELF header, section headers and program headers.
    pub fn parse<A: At + ?Sized>(f: &A) -> Result<Self, BinError> {
        let head = read(f, 0, 64.min(f.len())).map_err(|_| BinError::NotElf)?;
        if head.len() < 52 || !is_elf(&head) {
            return Err(BinError::NotElf);
        }
        let wide = match head[4] {
            1 => false,
            2 if head.len() >= 64 => true,
            _ => return Err(BinError::Broken("unknown ELF class".into())),
        };
        let big_endian = match head[5] {
            1 => false,
            2 => true,
            _ => return Err(BinError::Broken("unknown ELF byte order".into())),
        };
        let mut elf = Elf {
            big_endian,
            sections: Vec::new(),
            segments: Vec::new(),
        };
        let (phoff, phentsize, phnum, shoff, shentsize, shnum, shstrndx) = if wide {
            (
                elf.u64(&head, 0x20),
                elf.u16(&head, 0x36),
                elf.u16(&head, 0x38),
                elf.u64(&head, 0x28),
                elf.u16(&head, 0x3a),
                elf.u16(&head, 0x3c),
                elf.u16(&head, 0x3e),
            )
        } else {
            (
                elf.u32(&head, 0x1c),
                elf.u16(&head, 0x2a),
                elf.u16(&head, 0x2c),
                elf.u32(&head, 0x20),
                elf.u16(&head, 0x2e),
                elf.u16(&head, 0x30),
                elf.u16(&head, 0x32),
            )
        };
        let (ph_min, sh_min) = if wide { (56, 64) } else { (32, 40) };
        if phnum > 0 && phentsize >= ph_min {
            let table = read(f, phoff, phnum * phentsize)?;
            for i in 0..phnum as usize {
                let p = &table[i * phentsize as usize..];
                if elf.u32(p, 0) != 1 {
                    continue; // PT_LOAD only
                }
                let (flags, offset, vaddr, filesz) = if wide {
                    (elf.u32(p, 4), elf.u64(p, 8), elf.u64(p, 16), elf.u64(p, 32))
                } else {
                    (elf.u32(p, 24), elf.u32(p, 4), elf.u32(p, 8), elf.u32(p, 16))
                };
                elf.segments.push(Segment {
                    vaddr,
                    offset,
                    filesz,
                    writable: flags & 2 != 0,
                });
            }
        }
        if shnum == 0 || shentsize < sh_min {
            return Ok(elf);
        }
        let table = read(f, shoff, shnum * shentsize)?;
        let entry = |i: u64| &table[(i * shentsize) as usize..((i + 1) * shentsize) as usize];
        let raw: Vec<(u64, u64, u64, u64, u64)> = (0..shnum)
            .map(|i| {
                let s = entry(i);
                let (name, kind) = (elf.u32(s, 0), elf.u32(s, 4));
                if wide {
                    (name, kind, elf.u64(s, 16), elf.u64(s, 24), elf.u64(s, 32))
                } else {
                    (name, kind, elf.u32(s, 12), elf.u32(s, 16), elf.u32(s, 20))
                }
            })
            .collect();
        let names = raw
            .get(shstrndx as usize)
            .map(|&(_, _, _, off, size)| read(f, off, size.min(1 << 20)))
            .transpose()?
            .unwrap_or_default();
        for (name, kind, addr, offset, size) in raw {
            let name = names
                .get(name as usize..)
                .and_then(|s| s.split(|&b| b == 0).next())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            elf.sections.push(Section {
                name,
                addr,
                offset,
                size,
                in_file: kind != 8,
            });
        }
        Ok(elf)
    }

    /// The section called `name`, when it has bytes in the file.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name && s.in_file)
    }

    /// The file offset of a loaded address.
    fn file_offset(&self, addr: u64) -> Option<u64> {
        self.segments.iter().find_map(|s| {
            (addr >= s.vaddr && addr - s.vaddr < s.filesz).then(|| s.offset + (addr - s.vaddr))
        })
    }
}

/// What a Go executable says it was built from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoInfo {
    /// The Go version (`go1.22.4`).
    pub go_version: String,
    /// The main package's path (`example.com/svc/cmd/api`).
    pub path: String,
    /// The main module and its version (`(devel)` for a local build).
    pub main: Option<(String, String)>,
    /// Every dependency module compiled in, after replacements.
    pub deps: Vec<(String, String)>,
}

const GO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// Go's unsigned varint (LEB128).
fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// The build information of a Go executable: `Ok(None)` when it is not
/// one (no `.go.buildinfo` and no magic at the start of its data).
pub fn go_info<A: At + ?Sized>(f: &A, elf: &Elf) -> Result<Option<GoInfo>, BinError> {
    let bad = |why: &str| BinError::BadInfo {
        what: "the Go build information",
        why: why.to_string(),
    };
    // Where Go's own reader looks: the section, else the first writable
    // segment's first 64 KiB, at 16-byte alignment.
    let (base, data) = match elf.section(".go.buildinfo") {
        Some(s) => (s.offset, read(f, s.offset, s.size.min(64 << 10))?),
        None => match elf.segments.iter().find(|s| s.writable) {
            Some(s) => (s.offset, read(f, s.offset, s.filesz.min(64 << 10))?),
            None => return Ok(None),
        },
    };
    let Some(at) = (0..data.len())
        .step_by(16)
        .find(|&i| data[i..].starts_with(GO_MAGIC))
    else {
        return Ok(None);
    };
    let h = &data[at..];
    if h.len() < 32 {
        return Err(bad("a header cut short"));
    }
    let (ptr_size, flags) = (usize::from(h[14]), h[15]);
    let (version, modinfo) = if flags & 2 != 0 {
        // Go 1.18+: two length-prefixed strings after the 32-byte header.
        // They may run past the 64 KiB first read: read what they say.
        let need = 32 + 20;
        let head = read(f, base + at as u64, need.min(f.len() - (base + at as u64)))?;
        let (vlen, n) = uvarint(&head[32..]).ok_or_else(|| bad("no version length"))?;
        if vlen > 256 {
            return Err(bad(&format!("a Go version of {vlen} bytes")));
        }
        let v = read(f, base + at as u64 + 32 + n as u64, vlen)?;
        let mpos = base + at as u64 + 32 + n as u64 + vlen;
        let mhead = read(f, mpos, 10.min(f.len().saturating_sub(mpos)))?;
        let (mlen, m) = uvarint(&mhead).ok_or_else(|| bad("no module list length"))?;
        if mlen > MAX_SECTION {
            return Err(BinError::Ceiling {
                what: "the Go module list",
                limit: format!("{} MiB", MAX_SECTION >> 20),
            });
        }
        let info = read(f, mpos + m as u64, mlen).map_err(|e| bad(&e.to_string()))?;
        (v, info)
    } else {
        // Before Go 1.18: two pointers to string headers {data, len}.
        if ptr_size != 4 && ptr_size != 8 {
            return Err(bad("a pointer size that is neither 4 nor 8"));
        }
        let big = flags & 1 != 0;
        let word = |b: &[u8]| -> u64 {
            if ptr_size == 8 {
                let s: [u8; 8] = b[..8].try_into().unwrap_or([0; 8]);
                if big {
                    u64::from_be_bytes(s)
                } else {
                    u64::from_le_bytes(s)
                }
            } else {
                let s: [u8; 4] = b[..4].try_into().unwrap_or([0; 4]);
                u64::from(if big {
                    u32::from_be_bytes(s)
                } else {
                    u32::from_le_bytes(s)
                })
            }
        };
        let string = |ptr: u64| -> Result<Vec<u8>, BinError> {
            let hdr_at = elf
                .file_offset(ptr)
                .ok_or_else(|| bad("a pointer outside the file"))?;
            let hdr = read(f, hdr_at, 2 * ptr_size as u64)?;
            let (data, len) = (word(&hdr), word(&hdr[ptr_size..]));
            if len == 0 {
                return Ok(Vec::new());
            }
            let data_at = elf
                .file_offset(data)
                .ok_or_else(|| bad("a pointer outside the file"))?;
            read(f, data_at, len)
        };
        (string(word(&h[16..]))?, string(word(&h[16 + ptr_size..]))?)
    };
    let go_version: String = String::from_utf8_lossy(&version)
        .chars()
        .take(MAX_FIELD)
        .collect();
    if !go_version.starts_with("go") {
        return Err(bad("a Go version that does not start with 'go'"));
    }
    // The module list sits between two 16-byte sentinels.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &[][..]
    };
    let mut info = parse_modinfo(&String::from_utf8_lossy(modinfo))?;
    info.go_version = go_version;
    Ok(Some(info))
}

/// The text module list (`path`, `mod`, `dep`, `=>` lines) of Go's build
/// information.
pub fn parse_modinfo(text: &str) -> Result<GoInfo, BinError> {
    let field = |s: &str| -> String { s.chars().take(MAX_FIELD).collect() };
    let mut info = GoInfo::default();
    let mut last_dep: Option<usize> = None;
    let mut last_is_main = false;
    for line in text.lines() {
        let mut parts = line.split('\t');
        match parts.next() {
            Some("path") => info.path = field(parts.next().unwrap_or("")),
            Some("mod") => {
                let (p, v) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                info.main = Some((field(p), field(v)));
                last_is_main = true;
                last_dep = None;
            }
            Some("dep") => {
                let (p, v) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                if info.deps.len() >= MAX_DEPS {
                    return Err(BinError::Ceiling {
                        what: "the modules of one Go executable",
                        limit: MAX_DEPS.to_string(),
                    });
                }
                info.deps.push((field(p), field(v)));
                last_dep = Some(info.deps.len() - 1);
                last_is_main = false;
            }
            Some("=>") => {
                // A replacement: what was compiled in is the replacement.
                let (p, v) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let with = (field(p), field(v));
                if let Some(i) = last_dep {
                    info.deps[i] = with;
                } else if last_is_main {
                    info.main = Some(with);
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

impl GoInfo {
    /// The packages: the standard library (`stdlib`, at the Go version),
    /// the main module and every dependency. Versions keep Go's own
    /// spelling (`v1.2.3`); the matcher reads them as semver. A program
    /// built outside module mode (`GO111MODULE=off`, `go build main.go`)
    /// records no `mod` line, only its main package's `path`: that is its
    /// main module, at `(devel)` (as Syft lists it), so the bill of
    /// materials still names the program itself.
    pub fn packages(&self, path: &str) -> Vec<Package> {
        let pkg = |name: &str, version: &str| Package {
            name: name.to_string(),
            version: version.to_string(),
            source: name.to_string(),
            source_version: version.to_string(),
            ecosystem: Ecosystem::Go,
            path: path.to_string(),
            ..Package::default()
        };
        let mut out = Vec::new();
        if let Some(v) = crate::vulndb::version::lang::go_toolchain(&self.go_version) {
            out.push(pkg("stdlib", &v));
        }
        match &self.main {
            Some((m, v)) if !m.is_empty() => out.push(pkg(m, v)),
            _ if !self.path.is_empty() => out.push(pkg(&self.path, "(devel)")),
            _ => {}
        }
        for (d, v) in &self.deps {
            if !d.is_empty() && !v.is_empty() {
                out.push(pkg(d, v));
            }
        }
        out
    }
}

/// One crate of `cargo auditable`'s list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Crate {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Where it came from: `crates.io`, `local`, `git`, `registry`.
    #[serde(default)]
    pub source: String,
    /// `runtime` (compiled in) or `build` (build scripts only).
    #[serde(default)]
    pub kind: String,
    /// Whether it is the executable's own crate.
    #[serde(default)]
    pub root: bool,
}

#[derive(serde::Deserialize)]
struct Auditable {
    packages: Vec<Crate>,
}

/// The crates `cargo auditable` recorded in a Rust executable (its
/// `.dep-v0` section: zlib-compressed JSON); `Ok(None)` without one.
pub fn rust_crates<A: At + ?Sized>(f: &A, elf: &Elf) -> Result<Option<Vec<Crate>>, BinError> {
    let Some(s) = elf.section(".dep-v0") else {
        return Ok(None);
    };
    let compressed = read(f, s.offset, s.size)?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut json)
        .map_err(|e| BinError::BadInfo {
            what: "cargo auditable's dependency list",
            why: e.to_string(),
        })?;
    if json.len() as u64 > MAX_INFLATED {
        return Err(BinError::Ceiling {
            what: "cargo auditable's dependency list, inflated",
            limit: format!("{} MiB", MAX_INFLATED >> 20),
        });
    }
    let list: Auditable = serde_json::from_slice(&json).map_err(|e| BinError::BadInfo {
        what: "cargo auditable's dependency list",
        why: e.to_string(),
    })?;
    if list.packages.len() > MAX_DEPS {
        return Err(BinError::Ceiling {
            what: "the crates of one Rust executable",
            limit: MAX_DEPS.to_string(),
        });
    }
    Ok(Some(
        list.packages
            .into_iter()
            .map(|c| Crate {
                name: c.name.chars().take(MAX_FIELD).collect(),
                version: c.version.chars().take(MAX_FIELD).collect(),
                ..c
            })
            .collect(),
    ))
}

/// The crates.io packages compiled into a Rust executable: build-time
/// crates (build scripts, proc macros) are not in it and are left out, and
/// so are local and git crates (no advisories name them).
pub fn rust_packages(crates: &[Crate], path: &str) -> Vec<Package> {
    crates
        .iter()
        .filter(|c| c.kind != "build" && c.source == "crates.io")
        .map(|c| Package {
            name: c.name.clone(),
            version: c.version.clone(),
            source: c.name.clone(),
            source_version: c.version.clone(),
            ecosystem: Ecosystem::CratesIo,
            path: path.to_string(),
            ..Package::default()
        })
        .collect()
}

/// Everything an executable says it was built from; `Ok(empty)` for an ELF
/// file that is neither a Go executable nor one `cargo auditable` built.
pub fn packages<A: At + ?Sized>(f: &A, path: &str) -> Result<Vec<Package>, BinError> {
    let elf = Elf::parse(f)?;
    let mut out = Vec::new();
    if let Some(go) = go_info(f, &elf)? {
        out.extend(go.packages(path));
    }
    if let Some(crates) = rust_crates(f, &elf)? {
        out.extend(rust_packages(&crates, path));
    }
    Ok(out)
}

/// A little-endian ELF64 file holding these named sections and one
/// writable load segment over the first one (for tests and fuzz seeds: a
/// Go or `cargo auditable` executable's structure without the program).
#[doc(hidden)]
pub fn synthetic_elf(sections: &[(&str, &[u8])]) -> Vec<u8> {
    let mut names = vec![0u8];
    let mut name_at = Vec::new();
    for (n, _) in sections {
        name_at.push(names.len() as u32);
        names.extend(n.as_bytes());
        names.push(0);
    }
    let shstr_name = names.len() as u32;
    names.extend(b".shstrtab\0");
    let mut out = vec![0u8; 64 + 56];
    out[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    let mut placed = Vec::new();
    for (_, data) in sections {
        // Sections start 16-aligned, as Go's build information must.
        out.resize(out.len().div_ceil(16) * 16, 0);
        placed.push((out.len() as u64, data.len() as u64));
        out.extend(*data);
    }
    let names_at = out.len() as u64;
    out.extend(&names);
    out.resize(out.len().div_ceil(8) * 8, 0);
    let shoff = out.len() as u64;
    let mut sh = |name: u32, kind: u32, addr: u64, off: u64, size: u64| {
        let mut e = [0u8; 64];
        e[0..4].copy_from_slice(&name.to_le_bytes());
        e[4..8].copy_from_slice(&kind.to_le_bytes());
        e[16..24].copy_from_slice(&addr.to_le_bytes());
        e[24..32].copy_from_slice(&off.to_le_bytes());
        e[32..40].copy_from_slice(&size.to_le_bytes());
        out.extend(e);
    };
    sh(0, 0, 0, 0, 0);
    for (i, (off, size)) in placed.iter().enumerate() {
        sh(name_at[i], 1, 0x40_0000 + off, *off, *size);
    }
    sh(shstr_name, 3, 0, names_at, names.len() as u64);
    let shnum = (sections.len() + 2) as u16;
    out[0x20..0x28].copy_from_slice(&64u64.to_le_bytes()); // phoff
    out[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
    out[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
    out[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
    out[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
    out[0x3c..0x3e].copy_from_slice(&shnum.to_le_bytes());
    out[0x3e..0x40].copy_from_slice(&(shnum - 1).to_le_bytes());
    // One PT_LOAD, writable, mapping the whole file at 0x400000.
    let len = out.len() as u64;
    let ph = &mut out[64..120];
    ph[0..4].copy_from_slice(&1u32.to_le_bytes());
    ph[4..8].copy_from_slice(&6u32.to_le_bytes());
    ph[16..24].copy_from_slice(&0x40_0000u64.to_le_bytes());
    ph[32..40].copy_from_slice(&len.to_le_bytes());
    out
}

/// Go 1.18+'s inline build information for `version` and a module list.
#[doc(hidden)]
pub fn synthetic_go_buildinfo(version: &str, modinfo: &str) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, s: &[u8]) {
        let mut n = s.len() as u64;
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend(s);
    }
    let mut out = GO_MAGIC.to_vec();
    out.extend([8u8, 2u8]);
    out.resize(32, 0);
    put(&mut out, version.as_bytes());
    let mut info = vec![b'0'; 16];
    info.extend(modinfo.as_bytes());
    if !modinfo.ends_with('\n') {
        info.push(b'\n');
    }
    info.extend([b'1'; 16]);
    put(&mut out, &info);
    out
}

/// `cargo auditable`'s section for this JSON.
#[doc(hidden)]
pub fn synthetic_dep_v0(json: &str) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(json.as_bytes());
    z.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_lists_with_replacements() {
        let text = "path\texample.com/svc/cmd/api\nmod\texample.com/svc\t(devel)\t\n\
                    dep\tgolang.org/x/net\tv0.17.0\th1:abc\n\
                    dep\tgithub.com/old/thing\tv1.0.0\th1:def\n\
                    =>\tgithub.com/fork/thing\tv1.0.1-0.20230101000000-abcdef123456\th1:ghi\n\
                    build\t-compiler=gc\n";
        let info = parse_modinfo(text).unwrap();
        assert_eq!(info.path, "example.com/svc/cmd/api");
        assert_eq!(
            info.main,
            Some(("example.com/svc".into(), "(devel)".into()))
        );
        assert_eq!(
            info.deps,
            [
                ("golang.org/x/net".to_string(), "v0.17.0".to_string()),
                (
                    "github.com/fork/thing".to_string(),
                    "v1.0.1-0.20230101000000-abcdef123456".to_string()
                )
            ]
        );
        let pk = GoInfo {
            go_version: "go1.21.3".into(),
            ..info
        }
        .packages("/usr/local/bin/api");
        let names: Vec<(&str, &str)> = pk
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(names[0], ("stdlib", "1.21.3"));
        assert_eq!(names.len(), 4);
    }

    /// Built outside module mode: no `mod` line; the main package's path is
    /// the program's own component (Syft: 2 Go components, stdlib and it).
    #[test]
    fn a_go_program_without_a_module_still_names_itself() {
        let info = parse_modinfo("path\tcommand-line-arguments\nbuild\t-compiler=gc\n").unwrap();
        let got: Vec<(String, String)> = GoInfo {
            go_version: "go1.19.8".into(),
            ..info
        }
        .packages("/usr/local/bin/v")
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect();
        assert_eq!(
            got,
            [
                ("stdlib".to_string(), "1.19.8".to_string()),
                ("command-line-arguments".to_string(), "(devel)".to_string())
            ]
        );
    }

    #[test]
    fn go_and_rust_executables_as_their_tools_write_them() {
        let go = synthetic_go_buildinfo(
            "go1.22.4",
            "path\texample.com/api\nmod\texample.com/api\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.7\th1:x\n",
        );
        let dep = synthetic_dep_v0(
            r#"{"packages":[{"name":"svc","version":"0.1.0","source":"local","root":true},
            {"name":"time","version":"0.3.20","source":"crates.io","kind":"runtime"},
            {"name":"cc","version":"1.0.79","source":"crates.io","kind":"build"}]}"#,
        );
        let elf = synthetic_elf(&[(".go.buildinfo", &go), (".dep-v0", &dep)]);
        let got: Vec<(Ecosystem, String, String)> = packages(&elf[..], "/bin/x")
            .unwrap()
            .into_iter()
            .map(|p| (p.ecosystem, p.name, p.version))
            .collect();
        assert_eq!(
            got,
            [
                (Ecosystem::Go, "stdlib".to_string(), "1.22.4".to_string()),
                (
                    Ecosystem::Go,
                    "example.com/api".to_string(),
                    "(devel)".to_string()
                ),
                (
                    Ecosystem::Go,
                    "golang.org/x/text".to_string(),
                    "v0.3.7".to_string()
                ),
                (
                    Ecosystem::CratesIo,
                    "time".to_string(),
                    "0.3.20".to_string()
                ),
            ]
        );
        // Without section names (stripped section headers): the magic is
        // found at the start of the writable segment.
        let bare = synthetic_elf(&[(".data", &go)]);
        assert_eq!(packages(&bare[..], "x").unwrap().len(), 3);
        // A corrupt build-info section: an error with a reason, no panic.
        let mut bad = go.clone();
        bad[32] = 0xff;
        bad[33] = 0xff;
        let elf = synthetic_elf(&[(".go.buildinfo", &bad)]);
        assert!(packages(&elf[..], "x").is_err());
        for cut in (0..elf.len()).step_by(3) {
            let _ = packages(&elf[..cut], "x");
        }
        // A compressed list that inflates past its ceiling.
        let huge = synthetic_dep_v0(&" ".repeat((MAX_INFLATED + 10) as usize));
        let elf = synthetic_elf(&[(".dep-v0", &huge)]);
        assert!(matches!(
            packages(&elf[..], "x"),
            Err(BinError::Ceiling { .. })
        ));
        // An ELF that is neither: nothing, no error.
        let plain = synthetic_elf(&[(".text", b"\x90\x90")]);
        assert_eq!(packages(&plain[..], "x"), Ok(Vec::new()));
    }

    #[test]
    fn not_elf_and_broken_elf() {
        assert_eq!(
            packages(&b"#!/bin/sh\necho hi\n"[..], "x"),
            Err(BinError::NotElf)
        );
        let mut e = b"\x7fELF\x02\x01\x01".to_vec();
        e.resize(64, 0);
        // Section headers claimed past the end.
        e[0x28..0x30].copy_from_slice(&1_000_000u64.to_le_bytes());
        e[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        e[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        assert!(matches!(packages(&e[..], "x"), Err(BinError::Broken(_))));
        for cut in 0..64 {
            let _ = packages(&e[..cut], "x");
        }
    }
}
