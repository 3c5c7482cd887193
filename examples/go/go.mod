// The Go example: cgo reads include/fastflow.h itself. No requirements, so
// it builds with GOPROXY=off and nothing is downloaded.
module libfastflow.example/score

go 1.19
