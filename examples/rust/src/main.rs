//! score_image MODEL.safetensors IMAGE...
//!
//! Loads a model, scores each image and prints "IMAGE SCORE WIDTHxHEIGHT"
//! (the score as the shortest decimal that reads back as the same f32, then
//! the anomaly map's size), plus "anomalous" or "normal" when the model
//! carries a threshold. A file that fails is reported on stderr with its
//! status and message, the others are still scored, and the exit code is 1.
use std::env;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: {} MODEL.safetensors IMAGE...", args[0]);
        return ExitCode::from(2);
    }
    let flow = match fastflow::Flow::load(&args[1]) {
        Ok(flow) => flow,
        Err(e) => {
            eprintln!("score_image: {}: {}", args[1], e);
            return ExitCode::from(1);
        }
    };
    let mut scorer = match flow.scorer() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("score_image: creating a scorer: {}", e);
            return ExitCode::from(1);
        }
    };
    let mut failed = false;
    for path in &args[2..] {
        match scorer.score_file(path) {
            Ok(r) => {
                let decision = match r.anomalous {
                    Some(true) => " anomalous",
                    Some(false) => " normal",
                    None => "",
                };
                println!("{} {} {}x{}{}", path, r.score, r.width, r.height, decision);
            }
            Err(e) => {
                eprintln!("score_image: {}: {}", path, e);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
