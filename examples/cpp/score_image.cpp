// score_image.cpp - libfastflow from C++ through a small RAII wrapper.
//
//   score_image_cpp MODEL.safetensors IMAGE...
//
// Prints "IMAGE SCORE" per image. The wrapper below (kept in the example,
// not part of the library's API) shows the pattern: std::unique_ptr with
// the library's destroy functions as deleters, and an exception carrying
// the status and message for every failed call. A file that cannot be
// scored is reported and the others still are; the exit code is then 1.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fastflow.h>

namespace ffcpp {

// A failed libfastflow call: the status and the thread's error message.
class Error : public std::runtime_error {
public:
    Error(ff_status status, const std::string &what)
        : std::runtime_error(what + ": " + ff_status_string(status) + ": " + ff_last_error_message()),
          status_(status) {}
    ff_status status() const noexcept { return status_; }

private:
    ff_status status_;
};

inline void check(ff_status status, const char *what) {
    if (status != FF_OK) throw Error(status, what);
}

struct FlowDeleter {
    void operator()(ff_flow *f) const noexcept { ff_flow_destroy(f); }
};
struct ScorerDeleter {
    void operator()(ff_scorer *s) const noexcept { ff_scorer_destroy(s); }
};

// A loaded model; immutable and shareable between threads.
class Flow {
public:
    static Flow load(const std::string &path) {
        ff_flow *raw = nullptr;
        check(ff_flow_load(path.c_str(), nullptr, &raw), path.c_str());
        return Flow(raw);
    }
    const ff_flow *get() const noexcept { return flow_.get(); }

private:
    explicit Flow(ff_flow *raw) : flow_(raw) {}
    std::unique_ptr<ff_flow, FlowDeleter> flow_;
};

struct Result {
    float score = 0.0f;
    int32_t height = 0, width = 0;
    std::vector<float> map; // height * width, row-major
};

// A per-thread scorer. It keeps the flow alive on the C side (reference
// counting), so it may outlive the Flow object.
class Scorer {
public:
    explicit Scorer(const Flow &flow) {
        ff_scorer *raw = nullptr;
        check(ff_scorer_create(flow.get(), &raw), "creating a scorer");
        scorer_.reset(raw);
        check(ff_scorer_map_shape(raw, &width_, &height_), "map shape");
    }
    Result score_file(const std::string &path) {
        Result r;
        r.height = height_;
        r.width = width_;
        r.map.resize(static_cast<size_t>(height_) * static_cast<size_t>(width_));
        check(ff_scorer_score_file(scorer_.get(), path.c_str(), r.map.data(), r.map.size(), &r.score),
              path.c_str());
        return r;
    }

private:
    std::unique_ptr<ff_scorer, ScorerDeleter> scorer_;
    int32_t height_ = 0, width_ = 0;
};

} // namespace ffcpp

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s MODEL.safetensors IMAGE...\n", argv[0]);
        return 2;
    }
    try {
        ffcpp::Scorer scorer(ffcpp::Flow::load(argv[1])); // the temporary Flow may go: the scorer holds it
        int rc = 0;
        for (int i = 2; i < argc; i++) {
            try {
                ffcpp::Result r = scorer.score_file(argv[i]);
                std::printf("%s %.9g\n", argv[i], static_cast<double>(r.score));
            } catch (const ffcpp::Error &e) {
                std::fprintf(stderr, "score_image_cpp: %s (status %d)\n", e.what(), static_cast<int>(e.status()));
                rc = 1;
            }
        }
        return rc;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "score_image_cpp: %s\n", e.what());
        return 1;
    }
}
