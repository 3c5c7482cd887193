//! A small safe wrapper over libfastflow's generated declarations.
//!
//! The raw items (module `sys`) come from include/fastflow.h through bindgen
//! at build time (build.rs). The wrapper keeps `unsafe` inside this file:
//! every failed call becomes an [`Error`] with the status and the calling
//! thread's message, handles are freed by `Drop`, and the header's threading
//! rules become Rust's (a [`Flow`] is `Send + Sync`, a [`Scorer`] only `Send`
//! and takes `&mut self` to score).
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};

/// The declarations bindgen generated from include/fastflow.h.
#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code)]
pub mod sys {
    include!(concat!(env!("OUT_DIR"), "/fastflow_sys.rs"));
}

/// A failed libfastflow call: its status (enum ff_status_code, e.g.
/// `sys::FF_E_IO`) and the message the library gave for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: i32,
    pub message: String,
}

impl Error {
    /// The error of a call that just returned `status` on this thread
    /// (ff_last_error_message is per thread and valid until the next call).
    fn last(status: sys::ff_status) -> Error {
        let message = unsafe { CStr::from_ptr(sys::ff_last_error_message()) };
        Error { status, message: message.to_string_lossy().into_owned() }
    }

    /// The status's static description (ff_status_string).
    pub fn status_string(&self) -> String {
        unsafe { CStr::from_ptr(sys::ff_status_string(self.status)) }.to_string_lossy().into_owned()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (status {}: {})", self.message, self.status, self.status_string())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(status: sys::ff_status) -> Result<()> {
    if status == sys::FF_OK as sys::ff_status {
        Ok(())
    } else {
        Err(Error::last(status))
    }
}

/// A path as the C API takes it; a NUL byte inside is an invalid argument
/// (reported like the library reports one, without calling it).
fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error {
        status: sys::FF_E_INVALID_ARGUMENT as sys::ff_status,
        message: format!("path {:?} contains a NUL byte", path),
    })
}

/// The loaded library's version, e.g. "0.1.0".
pub fn version() -> String {
    unsafe { CStr::from_ptr(sys::ff_version_string()) }.to_string_lossy().into_owned()
}

/// A trained model (ff_flow): immutable, shared by any number of threads.
pub struct Flow {
    raw: NonNull<sys::ff_flow>,
}

// The header: ff_flow is immutable after creation and may be used by any
// number of threads at once.
unsafe impl Send for Flow {}
unsafe impl Sync for Flow {}

impl Flow {
    /// Loads a model file with the backbone embedded in it (ff_flow_load).
    pub fn load<P: AsRef<Path>>(path: P) -> Result<Flow> {
        let path = c_path(path.as_ref())?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::ff_flow_load(path.as_ptr(), ptr::null(), &mut raw) })?;
        Ok(Flow { raw: NonNull::new(raw).expect("ff_flow_load returned FF_OK and NULL") })
    }

    /// A new scorer over this model.
    pub fn scorer(&self) -> Result<Scorer> {
        Scorer::new(self)
    }

    /// The model's image threshold, when it carries score statistics.
    pub fn image_threshold(&self) -> Option<f32> {
        let mut v = 0.0f32;
        let st = unsafe {
            sys::ff_flow_get_statistic(self.raw.as_ptr(), sys::FF_STAT_IMAGE_THRESHOLD as i32, &mut v)
        };
        check(st).ok().map(|_| v)
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        unsafe { sys::ff_flow_destroy(self.raw.as_ptr()) }
    }
}

/// The result of scoring one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The image score (the map's maximum), higher = more anomalous.
    pub score: f32,
    /// The anomaly map, `height` rows of `width` values, in [-1, 0].
    pub map: Vec<f32>,
    pub width: usize,
    pub height: usize,
    /// score >= the model's image threshold; None without statistics.
    pub anomalous: Option<bool>,
}

/// A per-thread working object (ff_scorer). It holds its own reference to
/// the model on the C side, so it may outlive the [`Flow`] it came from.
pub struct Scorer {
    raw: NonNull<sys::ff_scorer>,
}

// One thread at a time: it may move between threads (Send) but not be
// shared (no Sync); scoring takes &mut self.
unsafe impl Send for Scorer {}

impl Scorer {
    pub fn new(flow: &Flow) -> Result<Scorer> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::ff_scorer_create(flow.raw.as_ptr(), &mut raw) })?;
        Ok(Scorer { raw: NonNull::new(raw).expect("ff_scorer_create returned FF_OK and NULL") })
    }

    /// (width, height) of the maps: the model's input size.
    pub fn map_shape(&self) -> Result<(usize, usize)> {
        let (mut width, mut height) = (0i32, 0i32);
        check(unsafe { sys::ff_scorer_map_shape(self.raw.as_ptr(), &mut width, &mut height) })?;
        Ok((width as usize, height as usize))
    }

    /// Scores a PNG or JPEG file: its score, map and decision.
    pub fn score_file<P: AsRef<Path>>(&mut self, path: P) -> Result<Score> {
        let path = c_path(path.as_ref())?;
        let (width, height) = self.map_shape()?;
        let mut map = vec![0.0f32; width * height];
        let mut score = 0.0f32;
        check(unsafe {
            sys::ff_scorer_score_file(
                self.raw.as_ptr(),
                path.as_ptr(),
                map.as_mut_ptr(),
                map.len(),
                &mut score,
            )
        })?;
        let anomalous = self.last_decision();
        Ok(Score { score, map, width, height, anomalous })
    }

    /// The decision of the last score call; None when the model has no
    /// statistics (FF_E_STATE).
    fn last_decision(&self) -> Option<bool> {
        let mut d = 0i32;
        check(unsafe { sys::ff_scorer_last_decisions(self.raw.as_ptr(), &mut d, 1) }).ok().map(|_| d != 0)
    }
}

impl Drop for Scorer {
    fn drop(&mut self) {
        unsafe { sys::ff_scorer_destroy(self.raw.as_ptr()) }
    }
}
