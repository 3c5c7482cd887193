//! Generates the raw declarations of libfastflow from include/fastflow.h at
//! build time with the `bindgen` command (Debian's package `bindgen`; the
//! bindgen crate is not needed, so nothing is downloaded).
//!
//! Environment:
//!   FASTFLOW_INCLUDE_DIR  folder holding fastflow.h (default ../../include)
//!   FASTFLOW_LIB_DIR      folder holding libfastflow.so (default: the system's;
//!                         when given it is also the binaries' run path)
//!   BINDGEN               the bindgen command (default `bindgen` on PATH)
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let include = env::var_os("FASTFLOW_INCLUDE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("..").join("..").join("include"));
    let header = include.join("fastflow.h");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR")).join("fastflow_sys.rs");
    let bindgen = env::var("BINDGEN").unwrap_or_else(|_| "bindgen".to_string());

    let status = Command::new(&bindgen)
        .arg(&header)
        .arg("--output")
        .arg(&out)
        // Only the library's names, not those of <stdint.h> and <stddef.h>.
        .args(["--allowlist-function", "ff_.*", "--allowlist-type", "ff_.*", "--allowlist-var", "FF_.*"])
        // Enumerators are used as the int32_t keys and codes of the API:
        // plain constants named as in C (FF_OK, FF_SCORER_MAP_SIZE, ...).
        .args(["--no-prepend-enum-name", "--size_t-is-usize", "--no-layout-tests"])
        .arg("--")
        // The header's export macro carries a visibility attribute; a
        // generator only needs the declarations (see docs/bindings.md).
        .arg("-DFF_API=")
        .arg(format!("-I{}", include.display()))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {} ({}); Debian: apt-get install bindgen", bindgen, e));
    if !status.success() {
        panic!("{} failed on {} ({})", bindgen, header.display(), status);
    }

    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-changed=build.rs");
    for var in ["FASTFLOW_INCLUDE_DIR", "FASTFLOW_LIB_DIR", "BINDGEN"] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    if let Some(dir) = env::var_os("FASTFLOW_LIB_DIR") {
        let dir = PathBuf::from(dir);
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    println!("cargo:rustc-link-lib=dylib=fastflow");
}
