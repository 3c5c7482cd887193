// Package fastflow is a small Go wrapper over libfastflow, written with cgo:
// cgo reads include/fastflow.h itself (the #include below), so the Go side
// is checked against the header at every build.
//
// Errors come back as *Error (status and message). Handles are released
// by Close (and, as a safety net, by a finalizer). A Flow may be shared by
// goroutines; a Scorer is used by one goroutine at a time.
package fastflow

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include
#cgo LDFLAGS: -lfastflow
#include <stdlib.h>
#include <fastflow.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Error is a failed libfastflow call: its status (enum ff_status_code) and
// the library's message.
type Error struct {
	Status  int32
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (status %d: %s)", e.Message, e.Status, StatusString(e.Status))
}

// Status codes used by this package's callers.
const (
	OK           = int32(C.FF_OK)
	ErrIO        = int32(C.FF_E_IO)
	ErrBadFormat = int32(C.FF_E_BAD_FORMAT)
	ErrState     = int32(C.FF_E_STATE)
)

// StatusString is the static description of a status (ff_status_string).
func StatusString(status int32) string {
	return C.GoString(C.ff_status_string(C.ff_status(status)))
}

// Version is the loaded library's version string.
func Version() string { return C.GoString(C.ff_version_string()) }

// call runs one C call and turns a failure into an *Error. The message is
// per OS thread (ff_last_error_message), and a goroutine may move to
// another thread between two cgo calls: the call and the read of its
// message run locked to one thread.
func call(f func() C.ff_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st := f()
	if st == C.FF_OK {
		return nil
	}
	return &Error{Status: int32(st), Message: C.GoString(C.ff_last_error_message())}
}

// Flow is a trained model (ff_flow): immutable, shared by goroutines.
type Flow struct{ p *C.ff_flow }

// Load reads a model file with its embedded backbone (ff_flow_load).
func Load(path string) (*Flow, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.ff_flow
	if err := call(func() C.ff_status { return C.ff_flow_load(cpath, nil, &p) }); err != nil {
		return nil, err
	}
	f := &Flow{p}
	runtime.SetFinalizer(f, (*Flow).Close)
	return f, nil
}

// Close releases the model; scorers created from it keep their own
// reference. Calling it again does nothing.
func (f *Flow) Close() {
	if f.p != nil {
		C.ff_flow_destroy(f.p)
		f.p = nil
	}
}

// Scorer is a per-goroutine working object (ff_scorer).
type Scorer struct{ p *C.ff_scorer }

// NewScorer creates a scorer over the model.
func NewScorer(f *Flow) (*Scorer, error) {
	var p *C.ff_scorer
	err := call(func() C.ff_status { return C.ff_scorer_create(f.p, &p) })
	runtime.KeepAlive(f)
	if err != nil {
		return nil, err
	}
	s := &Scorer{p}
	runtime.SetFinalizer(s, (*Scorer).Close)
	return s, nil
}

// Close releases the scorer. Calling it again does nothing.
func (s *Scorer) Close() {
	if s.p != nil {
		C.ff_scorer_destroy(s.p)
		s.p = nil
	}
}

// MapShape is the size of the maps: the model's input width and height.
func (s *Scorer) MapShape() (width, height int, err error) {
	var w, h C.int32_t
	err = call(func() C.ff_status { return C.ff_scorer_map_shape(s.p, &w, &h) })
	runtime.KeepAlive(s)
	return int(w), int(h), err
}

// Score is the result of scoring one image.
type Score struct {
	Score         float32   // the map's maximum, higher = more anomalous
	Map           []float32 // Height rows of Width values, in [-1, 0]
	Width, Height int
	// Anomalous is the decision (score >= the model's threshold); nil when
	// the model carries no score statistics.
	Anomalous *bool
}

// ScoreFile scores a PNG or JPEG file.
func (s *Scorer) ScoreFile(path string) (Score, error) {
	w, h, err := s.MapShape()
	if err != nil {
		return Score{}, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	r := Score{Map: make([]float32, w*h), Width: w, Height: h}
	var score C.float
	// Go memory without Go pointers inside may be passed to C for the call.
	err = call(func() C.ff_status {
		return C.ff_scorer_score_file(s.p, cpath, (*C.float)(unsafe.Pointer(&r.Map[0])), C.size_t(len(r.Map)), &score)
	})
	if err != nil {
		return Score{}, err
	}
	r.Score = float32(score)
	var d C.int32_t
	if call(func() C.ff_status { return C.ff_scorer_last_decisions(s.p, &d, 1) }) == nil {
		a := d != 0
		r.Anomalous = &a
	}
	runtime.KeepAlive(s)
	return r, nil
}
