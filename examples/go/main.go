// score_image MODEL.safetensors IMAGE...
//
// Loads a model, scores each image and prints "IMAGE SCORE WIDTHxHEIGHT"
// (the score as the shortest decimal that reads back as the same float32,
// then the anomaly map's size), plus "anomalous" or "normal" when the model
// carries a threshold. A file that fails is reported on stderr with its
// status and message, the others are still scored, and the exit code is 1.
package main

import (
	"fmt"
	"os"
	"strconv"

	"libfastflow.example/score/fastflow"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintf(os.Stderr, "usage: %s MODEL.safetensors IMAGE...\n", os.Args[0])
		os.Exit(2)
	}
	flow, err := fastflow.Load(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "score_image: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	defer flow.Close()
	scorer, err := fastflow.NewScorer(flow)
	if err != nil {
		fmt.Fprintf(os.Stderr, "score_image: creating a scorer: %v\n", err)
		os.Exit(1)
	}
	defer scorer.Close()
	failed := false
	for _, path := range os.Args[2:] {
		r, err := scorer.ScoreFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "score_image: %s: %v\n", path, err)
			failed = true
			continue
		}
		decision := ""
		if r.Anomalous != nil {
			decision = map[bool]string{true: " anomalous", false: " normal"}[*r.Anomalous]
		}
		fmt.Printf("%s %s %dx%d%s\n", path, strconv.FormatFloat(float64(r.Score), 'g', -1, 32), r.Width, r.Height, decision)
	}
	if failed {
		scorer.Close()
		flow.Close()
		os.Exit(1)
	}
}
