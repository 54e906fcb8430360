//! `downhill serve`: the JSON API over loopback, good and bad requests, limits
//! and concurrency. The server is the real binary on a free port; the client
//! is a few lines of HTTP/1.1 over a `TcpStream`.

mod common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a test waits for any answer before failing instead of hanging.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// A running `downhill serve --port 0`, killed on drop.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start() -> Server {
        let (child, url) = common::serve(&[], Stdio::inherit());
        let address = url
            .strip_prefix("http://")
            .and_then(|a| a.strip_suffix('/'))
            .unwrap()
            .to_string();
        Server { child, address }
    }

    /// Sends one request; returns status, content type and body.
    fn send(&self, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        // a hang guard only: every answer is due long before
        stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.address,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) before reading a large body; keep going.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let mut body = raw[split + 4..].to_vec();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                })
                .unwrap_or_default()
        };
        if header("transfer-encoding") == "chunked" {
            body = dechunk(&body);
        }
        (status, header("content-type"), body)
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, kind, body) = self.send("POST", path, body.to_string().as_bytes());
        assert!(kind.starts_with("application/json"), "{kind}");
        (status, serde_json::from_slice(&body).unwrap())
    }

    fn get(&self, path: &str) -> (u16, String, Vec<u8>) {
        self.send("GET", path, b"")
    }

    /// Posts a request that must succeed.
    fn ok(&self, path: &str, body: Value) -> Value {
        let (status, doc) = self.post(path, &body);
        assert_eq!(status, 200, "{body} → {doc}");
        doc
    }

    /// Posts a request that must be refused with 400 and an error naming `needle`.
    fn refused(&self, path: &str, body: &[u8], needle: &str) {
        let (status, kind, answer) = self.send("POST", path, body);
        let doc: Value = serde_json::from_slice(&answer).unwrap();
        let message = doc["error"].as_str().unwrap_or_default();
        let shown: String = String::from_utf8_lossy(body).chars().take(300).collect();
        assert_eq!(status, 400, "{shown}: {doc}");
        assert!(kind.starts_with("application/json"));
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 4 + size..];
    }
}

fn cli(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn pair(v: &Value) -> [f64; 2] {
    [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()]
}

#[test]
fn the_page_and_its_assets_are_served_from_the_binary() {
    let server = Server::start();
    let (status, kind, page) = server.get("/");
    let page = String::from_utf8(page).unwrap();
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"));
    assert!(page.contains("<title>downhill playground</title>"));
    for (file, kind_wanted) in [
        ("style.css", "text/css"),
        ("api.js", "text/javascript"),
        ("plot.js", "text/javascript"),
        ("optimizers.js", "text/javascript"),
        ("paths.js", "text/javascript"),
        ("frame.js", "text/javascript"),
        ("overlays.js", "text/javascript"),
        ("presets.js", "text/javascript"),
        ("sweep.js", "text/javascript"),
        ("phase.js", "text/javascript"),
        ("train.js", "text/javascript"),
        ("view3d.js", "text/javascript"),
        ("app.js", "text/javascript"),
    ] {
        let (status, kind, body) = server.get(&format!("/static/{file}"));
        assert_eq!(status, 200, "{file}");
        assert!(kind.starts_with(kind_wanted), "{file}: {kind}");
        let text = String::from_utf8(body).unwrap();
        assert!(!text.is_empty());
        // every module it imports is served too
        for import in text.split("from \"./").skip(1) {
            let name = import.split('"').next().unwrap();
            assert_eq!(
                server.get(&format!("/static/{name}")).0,
                200,
                "{file} imports {name}"
            );
        }
        // nothing is loaded from the internet
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{file}"
        );
    }
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(page.contains("/static/style.css") && page.contains("/static/app.js"));
    let (status, kind, body) = server.get("/static/missing.js");
    assert_eq!(status, 404);
    assert!(kind.starts_with("application/json"));
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("no file 'missing.js'"));
}

/// The module specifiers in `text` that start with `./` (`from "./x"`, `from'./x'`, …).
fn relative_imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["from\"./", "from \"./", "from'./", "from './"] {
        for rest in text.split(marker).skip(1) {
            out.push(rest.split(['"', '\'']).next().unwrap().to_string());
        }
    }
    out
}

#[test]
fn three_js_for_the_3d_view_is_served_from_the_binary_with_its_licence() {
    let server = Server::start();
    let (_, _, view3d) = server.get("/static/view3d.js");
    let view3d = String::from_utf8(view3d).unwrap();
    assert!(view3d.contains("import(`./vendor/${file}`)"));
    let mut imported = 0;
    for file in [
        "three.module.min.js",
        "three.core.min.js",
        "OrbitControls.js",
        "LineSegments2.js",
        "LineSegmentsGeometry.js",
        "LineMaterial.js",
    ] {
        let (status, kind, body) = server.get(&format!("/static/vendor/{file}"));
        assert_eq!(status, 200, "{file}");
        assert!(kind.starts_with("text/javascript"), "{file}: {kind}");
        let text = String::from_utf8(body).unwrap();
        // every module it imports is one of ours: no bare 'three', no URL
        let names = relative_imports(&text);
        for name in &names {
            assert_eq!(
                server.get(&format!("/static/vendor/{name}")).0,
                200,
                "{file} imports {name}"
            );
        }
        assert!(!text.contains("} from 'three'"), "{file}");
        imported += names.len();
        // the page loads it, or another vendored module does
        assert!(
            view3d.contains(&format!("\"{file}\"")) || file.starts_with("three.core"),
            "{file}"
        );
    }
    // module → core (twice), each addon → module, LineSegments2 → its geometry and material
    assert_eq!(imported, 2 + 4 + 2);
    let (status, kind, licence) = server.get("/static/vendor/LICENSE-three");
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain"));
    assert!(String::from_utf8(licence)
        .unwrap()
        .contains("three.js authors"));
    let (_, _, version) = server.get("/static/vendor/VERSION");
    assert!(String::from_utf8(version)
        .unwrap()
        .starts_with("three.js 0.185.1"));
    assert_eq!(server.get("/static/vendor/missing.js").0, 404);
}

#[test]
fn run_answers_exactly_what_downhill_run_prints() {
    let server = Server::start();
    let specs = [
        "nag:lr=0.01,momentum=0.95",
        "adam:lr=0.1,amsgrad=true",
        "rmsprop",
    ];
    let mut args = vec![
        "run",
        "--surface",
        "x^4 + 2*x^3 + y^2 - 1",
        "--start",
        "1,-0.5",
        "--steps",
        "60",
    ];
    args.extend(["--schedule", "cosine:t_max=40"]);
    for s in &specs {
        args.extend(["--optimizer", s]);
    }
    let request = json!({
        "surface": "x^4 + 2*x^3 + y^2 - 1", "start": [1, -0.5], "optimizers": specs,
        "steps": 60, "schedule": "cosine:t_max=40",
    });
    let expected: Value =
        serde_json::from_slice(&cli(&[&args[..], &["--format", "json"]].concat())).unwrap();
    assert_eq!(server.ok("/api/run", request.clone()), expected);
    // with overlays the paths are the same, the overlays added
    let mut with = request.clone();
    with["overlays"] = true.into();
    let mut doc = server.ok("/api/run", with);
    for run in doc["runs"].as_array_mut().unwrap() {
        assert!(run.as_object_mut().unwrap().remove("overlays").is_some());
    }
    assert_eq!(doc, expected);
    // CSV: byte for byte
    let mut csv = request;
    csv["format"] = "csv".into();
    let (status, kind, body) = server.send("POST", "/api/run", csv.to_string().as_bytes());
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"));
    assert_eq!(body, cli(&[&args[..], &["--format", "csv"]].concat()));
    // a plateau schedule watches the loss, in the API as in the CLI
    let expected: Value = serde_json::from_slice(&cli(&[
        "run",
        "--surface",
        "rosenbrock",
        "--start",
        "-1.2,1",
        "-o",
        "adam:lr=0.05",
        "-o",
        "momentum:lr=0.0005",
        "--steps",
        "300",
        "--schedule",
        "plateau:patience=3,factor=0.5",
        "--format",
        "json",
    ]))
    .unwrap();
    let doc = server.ok(
        "/api/run",
        json!({"surface": "rosenbrock", "start": [-1.2, 1], "optimizers": ["adam:lr=0.05", "momentum:lr=0.0005"],
               "steps": 300, "schedule": "plateau:patience=3,factor=0.5"}),
    );
    assert_eq!(doc, expected);
    let constant = server.ok(
        "/api/run",
        json!({"surface": "rosenbrock", "start": [-1.2, 1], "optimizers": ["adam:lr=0.05", "momentum:lr=0.0005"], "steps": 300}),
    );
    assert_ne!(doc, constant, "the plateau schedule changed the paths");
    // a diverging run stops and says where, like the CLI
    let doc = server.ok("/api/run", json!({"surface": "saddle", "start": [0.5, 0.001], "optimizers": ["gd:lr=0.5"], "steps": 1000}));
    let expected: Value = serde_json::from_slice(&cli(&[
        "run",
        "--surface",
        "saddle",
        "--start",
        "0.5,0.001",
        "--optimizer",
        "gd:lr=0.5",
        "--steps",
        "1000",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(doc, expected);
    assert!(doc["runs"][0]["diverged"]["step"].as_u64().unwrap() < 1000);
}

#[test]
fn overlays_come_from_the_optimizer_state() {
    let server = Server::start();
    let doc = server.ok(
        "/api/run",
        json!({"surface": "rosenbrock", "start": [-1.2, 1], "steps": 30, "overlays": true,
               "optimizers": ["nag:lr=0.0005,momentum=0.9", "momentum:lr=0.0005", "adagrad:lr=0.3", "rmsprop:lr=0.01,alpha=0.9", "gd:lr=0.001"]}),
    );
    let grad = |x: f64, y: f64| {
        [
            -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
            200.0 * (y - x * x),
        ]
    };
    for run in doc["runs"].as_array().unwrap() {
        let points: Vec<[f64; 3]> = run["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                [
                    p[0].as_f64().unwrap(),
                    p[1].as_f64().unwrap(),
                    p[2].as_f64().unwrap(),
                ]
            })
            .collect();
        let o = &run["overlays"];
        assert_eq!(points.len(), 31);
        for (k, p) in points.iter().enumerate() {
            let (g, want) = (pair(&o["gradient"][k]), grad(p[0], p[1]));
            for i in 0..2 {
                assert!(
                    (g[i] - want[i]).abs() <= 1e-12 * want[i].abs().max(1.0),
                    "{g:?} {want:?}"
                );
            }
            let step = pair(&o["step"][k]);
            if k + 1 < points.len() {
                assert_eq!(step, [points[k + 1][0] - p[0], points[k + 1][1] - p[1]]);
            }
        }
        let spec = run["optimizer"].as_str().unwrap();
        let g0 = pair(&o["gradient"][0]);
        match spec.split(':').next().unwrap() {
            "nag" => {
                // v_k is the last displacement; the look-ahead point is θ + μv
                for k in 1..points.len() {
                    let v = pair(&o["velocity"][k]);
                    assert!((v[0] - (points[k][0] - points[k - 1][0])).abs() < 1e-12);
                    assert!((v[1] - (points[k][1] - points[k - 1][1])).abs() < 1e-12);
                    assert_eq!(
                        pair(&o["lookahead"][k]),
                        [points[k][0] + 0.9 * v[0], points[k][1] + 0.9 * v[1]]
                    );
                }
                assert!(o.get("effective_lr").is_none());
            }
            "momentum" => {
                // after one update the buffer is g₀: velocity −η·g₀, the first step
                assert_eq!(pair(&o["velocity"][0]), [0.0, 0.0]);
                assert_eq!(pair(&o["velocity"][1]), [-0.0005 * g0[0], -0.0005 * g0[1]]);
                assert!(o.get("lookahead").is_none());
            }
            "adagrad" => {
                // η / (√(g²) + ε) on the first step
                let e = pair(&o["effective_lr"][0]);
                for i in 0..2 {
                    let want = 0.3 / (g0[i].abs() + 1e-10);
                    assert!((e[i] - want).abs() <= 1e-12 * want, "{e:?}");
                }
                assert!(o.get("velocity").is_none());
            }
            "rmsprop" => {
                let e = pair(&o["effective_lr"][0]);
                for i in 0..2 {
                    let want = 0.01 / ((0.1 * g0[i] * g0[i]).sqrt() + 1e-8);
                    assert!((e[i] - want).abs() <= 1e-12 * want, "{e:?}");
                }
            }
            "gd" => {
                assert!(o.get("velocity").is_none() && o.get("effective_lr").is_none());
            }
            other => panic!("{other}"),
        }
    }
}

/// The limits the page reads are the ones the API enforces: a run at the
/// overlay limit is answered, one point more is refused; steps likewise.
#[test]
fn explain_gives_the_numbers_of_the_step_the_run_took() {
    let server = Server::start();
    let run = server.ok(
        "/api/run",
        json!({"surface": "anisotropic", "start": [4, -3], "steps": 6, "optimizers": ["adam:lr=0.3"]}),
    );
    let points = &run["runs"][0]["points"];
    for step in [1, 5] {
        let doc = server.ok(
            "/api/explain",
            json!({"surface": "anisotropic", "start": [4, -3], "step": step, "optimizer": "adam:lr=0.3"}),
        );
        assert_eq!(doc["rule"], "adam");
        assert_eq!(doc["after"]["step"], step);
        let value = |key: &str| pair(&doc["values"][key]);
        let (m_hat, v_hat) = (value("m̂[t]"), value("v̂[t]"));
        let (eta, eps) = (value("η")[0], value("ε")[0]);
        assert_eq!(eta, 0.3);
        // the displayed moments' definitions, from the optimizer's own state
        let (beta1, beta2, t) = (value("β₁")[0], value("β₂")[0], step as f64);
        let m = pair(&doc["after"]["buffers"]["exp_avg"]);
        let v = pair(&doc["after"]["buffers"]["exp_avg_sq"]);
        let (before, after) = (pair(&points[step - 1]), pair(&points[step]));
        assert_eq!((value("θ[t-1]"), value("θ[t]")), (before, after));
        for i in 0..2 {
            assert!((m_hat[i] - m[i] / (1.0 - beta1.powf(t))).abs() < 1e-12);
            assert!((v_hat[i] - v[i] / (1.0 - beta2.powf(t))).abs() < 1e-12);
            let step_taken = -eta * m_hat[i] / (v_hat[i].sqrt() + eps);
            assert!(
                (step_taken - (after[i] - before[i])).abs() < 1e-12,
                "step {step}: {step_taken} vs {}",
                after[i] - before[i]
            );
            assert!((value("Δθ[t]")[i] - step_taken).abs() < 1e-15);
        }
        let lines = doc["lines"].as_array().unwrap();
        let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
        assert_eq!(texts[3], "m̂[t] = m[t] / (1 − β₁^t)", "{texts:?}");
        assert_eq!(lines[3]["rhs"]["op"], "div");
        assert!(doc["summary"].as_str().unwrap().contains("bias-corrected"));
    }
    let other = server.ok(
        "/api/explain",
        json!({"surface": "sphere", "step": 2, "optimizer": "lion"}),
    );
    assert!(other["lines"].is_null() && other["after"]["buffers"]["exp_avg"].is_array());
    let ask = |fields: &str| format!(r#"{{"surface": "sphere", "optimizer": "adam", {fields}}}"#);
    server.refused(
        "/api/explain",
        ask(r#""step": 0"#).as_bytes(),
        "step must be between 1 and 20000",
    );
    server.refused(
        "/api/explain",
        ask(r#""step": 20001"#).as_bytes(),
        "step must be between 1 and 20000",
    );
    server.refused(
        "/api/explain",
        br#"{"surface": "sphere", "optimizer": "adamm", "step": 1}"#,
        "adam",
    );
    server.refused(
        "/api/explain",
        br#"{"surface": "sphere", "optimizer": "gd:lr=1e200", "step": 9}"#,
        "diverges at step",
    );
}

#[test]
fn limits_are_those_the_api_enforces() {
    let server = Server::start();
    let (status, _, body) = server.get("/api/limits");
    assert_eq!(status, 200);
    let limits: Value = serde_json::from_slice(&body).unwrap();
    let max_steps = limits["max_steps"].as_u64().unwrap();
    let max_points = limits["max_overlay_points"].as_u64().unwrap();
    let run = |steps: u64, optimizers: u64, overlays: bool| {
        json!({"surface": "sphere", "optimizers": vec!["gd"; optimizers as usize],
               "steps": steps, "overlays": overlays})
    };
    assert_eq!(server.post("/api/run", &run(max_steps, 1, false)).0, 200);
    let (status, doc) = server.post("/api/run", &run(max_steps + 1, 1, false));
    assert_eq!(status, 400);
    assert!(doc["error"]
        .as_str()
        .unwrap()
        .contains(&format!("between 0 and {max_steps}")));
    // optimizers × (steps + 1) exactly at the limit, then one optimizer more
    let optimizers = 16;
    assert_eq!(max_points % optimizers, 0, "{max_points}");
    let steps = max_points / optimizers - 1;
    assert_eq!(
        server.post("/api/run", &run(steps, optimizers, true)).0,
        200
    );
    let (status, doc) = server.post("/api/run", &run(steps + 1, optimizers, true));
    assert_eq!(status, 400);
    assert!(doc["error"]
        .as_str()
        .unwrap()
        .contains("overlays are limited"));
    assert_eq!(limits["max_optimizers"], 16);
}

#[test]
fn catalogue_grid_gradient_and_sweep() {
    let server = Server::start();
    let (status, _, body) = server.get("/api/surfaces");
    assert_eq!(status, 200);
    let surfaces: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(surfaces.as_array().unwrap().len(), 19);
    let quartic = surfaces
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "quartic")
        .unwrap();
    assert_eq!(quartic["minima"], json!([[-1.5, 0.0]]));
    assert_eq!(quartic["domain"]["x"], json!([-2.5, 1.5]));
    let (_, _, body) = server.get("/api/optimizers");
    let optimizers: Value = serde_json::from_slice(&body).unwrap();
    let names: Vec<&str> = optimizers
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = downhill::optim::OPTIMIZERS.iter().map(|e| e.name).collect();
    assert_eq!(names, expected);
    let adam = optimizers
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "adam")
        .unwrap();
    let lr = &adam["keys"][0];
    assert_eq!(
        (
            lr["name"].as_str(),
            lr["type"].as_str(),
            lr["default"].as_f64()
        ),
        (Some("lr"), Some("float"), Some(0.001))
    );
    assert_eq!(
        (
            lr["min"].as_f64(),
            lr["min_open"].as_bool(),
            lr["range"].as_str()
        ),
        (Some(0.0), Some(false), Some("[0, inf)"))
    );
    assert!(adam["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["name"] == "amsgrad" && k["type"] == "bool"));

    let doc = server.ok("/api/surface", json!({"surface": "x^2 - y"}));
    assert_eq!(doc["name"], "x^2 - y");
    let grid = server.ok(
        "/api/grid",
        json!({"surface": "sphere", "x": [-1, 1], "y": [0, 2], "n": 3}),
    );
    assert_eq!(
        grid["values"],
        json!([1.0, 0.0, 1.0, 2.0, 1.0, 2.0, 5.0, 4.0, 5.0])
    );
    let grid = server.ok(
        "/api/grid",
        json!({"surface": "log(x)", "x": [-1, 1], "y": [0, 1], "n": 2}),
    );
    assert_eq!(grid["values"][0], Value::Null, "non-finite values are null");
    let g = server.ok(
        "/api/gradient",
        json!({"surface": "rosenbrock", "points": [[1, 1], [0, 0]]}),
    );
    assert_eq!(
        g,
        json!({"values": [0.0, 1.0], "gradients": [[0.0, 0.0], [-2.0, 0.0]]})
    );

    let sweep = server.ok(
        "/api/sweep",
        json!({"surface": "anisotropic", "optimizers": ["gd", "momentum:momentum=0.8"], "lrs": [0.01, 0.95, 2.5], "steps": 300}),
    );
    for (i, spec) in ["gd", "momentum:momentum=0.8"].iter().enumerate() {
        for (j, lr) in ["0.01", "0.95", "2.5"].iter().enumerate() {
            let with_lr = if spec.contains(':') {
                format!("{spec},lr={lr}")
            } else {
                format!("{spec}:lr={lr}")
            };
            let run = server.ok(
                "/api/run",
                json!({"surface": "anisotropic", "optimizers": [with_lr], "steps": 300}),
            );
            let last = run["runs"][0]["points"].as_array().unwrap().last().unwrap()[2].clone();
            match run["runs"][0]["diverged"]["step"].as_u64() {
                Some(step) => {
                    assert_eq!(sweep["final_loss"][i][j], Value::Null);
                    assert_eq!(sweep["diverged_at"][i][j], json!(step));
                }
                None => assert_eq!(sweep["final_loss"][i][j], last, "{spec} lr {lr}"),
            }
        }
    }
    // and the same numbers as `downhill sweep`
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("sweep.csv");
    cli(&[
        "sweep",
        "--surface",
        "anisotropic",
        "-o",
        "gd",
        "-o",
        "momentum:momentum=0.8",
        "--lr",
        "0.01,0.95,2.5",
        "--steps",
        "300",
        "--csv",
        csv_path.to_str().unwrap(),
    ]);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    for (k, row) in reader.records().enumerate() {
        let row = row.unwrap();
        let (i, j) = (k / 3, k % 3);
        assert_eq!(&row[0], ["gd", "momentum:momentum=0.8"][i]);
        let diverged = &row[7] == "true";
        assert_eq!(sweep["diverged_at"][i][j].is_u64(), diverged);
        if !diverged {
            assert_eq!(
                sweep["final_loss"][i][j].as_f64().unwrap(),
                row[5].parse::<f64>().unwrap()
            );
        }
    }
    assert_eq!(
        sweep["final_loss"][0][2],
        Value::Null,
        "gd with lr 2.5 diverges on y²"
    );
}

/// A sweep with `param` (the phase diagram's request): a row per value,
/// the spec of each cell, whose run ends at the cell's loss, and with
/// `steps-to` the closed form of gd with weight decay wd on the sphere,
/// ⌈ln(TOL)/ln|1 − lr(2 + wd)|⌉ from distance 1.
#[test]
fn a_sweep_over_a_key_answers_each_cell_and_its_spec() {
    let server = Server::start();
    let sweep = server.ok(
        "/api/sweep",
        json!({"surface": "sphere", "start": [0.6, 0.8], "optimizers": ["gd"], "lrs": [0.05, 0.1],
            "steps": 100, "param": {"key": "weight_decay", "values": ["0", "1"]},
            "criterion": "steps-to=0.001"}),
    );
    assert_eq!(
        (&sweep["key"], &sweep["values"], &sweep["criterion"]),
        (
            &json!("weight_decay"),
            &json!(["0", "1"]),
            &json!("steps-to=0.001")
        )
    );
    for (i, wd) in [0.0f64, 1.0].iter().enumerate() {
        for (j, lr) in [0.05f64, 0.1].iter().enumerate() {
            let spec = sweep["specs"][i][j].as_str().unwrap();
            assert_eq!(spec, format!("gd:lr={lr},weight_decay={}", ["0", "1"][i]));
            let run = server.ok(
                "/api/run",
                json!({"surface": "sphere", "start": [0.6, 0.8], "optimizers": [spec], "steps": 100}),
            );
            let last = run["runs"][0]["points"].as_array().unwrap().last().unwrap()[2].clone();
            assert_eq!(sweep["final_loss"][i][j], last, "{spec}");
            let q = (1.0 - lr * (2.0 + wd)).abs();
            let steps = (1e-3f64.ln() / q.ln()).ceil() as u64;
            assert_eq!(sweep["steps_to_tolerance"][i][j], json!(steps), "{spec}");
        }
    }
    // without `param` the rows are the optimizers, as before, now with their specs
    let plain = server.ok(
        "/api/sweep",
        json!({"surface": "sphere", "optimizers": ["adam:beta1=0.8"], "lrs": [0.1], "steps": 5}),
    );
    assert_eq!(plain["specs"], json!([["adam:beta1=0.8,lr=0.1"]]));
    assert!(plain.get("values").is_none() && plain.get("steps_to_tolerance").is_none());
}

#[test]
fn tune_answers_what_downhill_tune_prints_and_the_tuned_runs() {
    let server = Server::start();
    let request = json!({"surface": "anisotropic", "optimizers": ["gd", "adam"], "steps": 200,
        "criterion": "steps-to=0.01", "grid": "0.01:1:7"});
    let mut answer = server.ok("/api/tune", request);
    let line = cli(&[
        "tune",
        "--surface",
        "anisotropic",
        "-o",
        "gd",
        "-o",
        "adam",
        "--steps",
        "200",
        "--criterion",
        "steps-to=0.01",
        "--grid",
        "0.01:1:7",
        "--format",
        "json",
    ]);
    let printed: Value = serde_json::from_slice(&line).unwrap();
    let runs = answer.as_object_mut().unwrap().remove("runs").unwrap();
    assert_eq!(answer, printed);
    // each tuned run is the `/api/run` of its spec at its lr
    for (k, spec) in ["gd", "adam"].iter().enumerate() {
        let lr = printed["results"][k]["lr"].as_f64().unwrap();
        let run = server.ok(
            "/api/run",
            json!({"surface": "anisotropic", "optimizers": [format!("{spec}:lr={lr:?}")], "steps": 200}),
        );
        assert_eq!(runs[k]["points"], run["runs"][0]["points"], "{spec}");
        assert_eq!(runs[k]["optimizer"], format!("{spec} lr={lr:?}"));
    }
}

#[test]
fn bad_requests_get_400_with_an_error_and_the_server_goes_on() {
    let server = Server::start();
    let run = |extra: Value| {
        let mut body =
            json!({"surface": "sphere", "start": [1, 1], "optimizers": ["gd:lr=0.1"], "steps": 10});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body.to_string().into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("/api/run", b"{\"surface\": \"sphere\",".to_vec(), "invalid JSON"),
        ("/api/run", b"{\"surface\": \"\xff\xfe\", \"optimizers\": [\"gd\"], \"steps\": 1}".to_vec(), "invalid JSON"),
        ("/api/run", b"".to_vec(), "invalid JSON"),
        ("/api/run", b"[1, 2]".to_vec(), "invalid JSON"),
        ("/api/run", run(json!({"colour": "red"})), "unknown field `colour`"),
        ("/api/run", run(json!({"steps": null})), "missing field `steps`"),
        ("/api/run", run(json!({"steps": -1})), "invalid JSON"),
        ("/api/run", run(json!({"steps": 20001})), "steps must be between 0 and 20000, got 20001"),
        ("/api/run", run(json!({"optimizers": []})), "the number of optimizers must be between 1 and 16, got 0"),
        ("/api/run", run(json!({"optimizers": vec!["gd"; 17]})), "between 1 and 16, got 17"),
        ("/api/run", run(json!({"optimizers": ["adamm"]})), "unknown optimizer 'adamm' (did you mean 'adam'?); valid: gd,"),
        ("/api/run", run(json!({"optimizers": ["adam:lr=-1"]})), "lr"),
        ("/api/run", run(json!({"optimizers": ["gd:colour=1"]})), "colour"),
        ("/api/run", run(json!({"surface": "rosenbrok"})), "unknown surface 'rosenbrok'"),
        ("/api/run", run(json!({"surface": "x^^2"})), "column 3"),
        ("/api/run", run(json!({"start": [1]})), "invalid JSON"),
        ("/api/run", b"{\"surface\": \"sphere\", \"start\": [1e999, 0], \"optimizers\": [\"gd\"], \"steps\": 1}".to_vec(), "invalid JSON"),
        ("/api/run", run(json!({"schedule": "cosine:t_max=-3"})), "t_max"),
        ("/api/run", run(json!({"format": "xml"})), "unknown variant `xml`"),
        ("/api/run", run(json!({"overlays": true, "steps": 20000, "optimizers": vec!["gd"; 16]})), "overlays are limited to 200000 points"),
        ("/api/grid", br#"{"surface": "sphere", "x": [0, 1], "y": [0, 1], "n": 401}"#.to_vec(), "n must be between 2 and 400, got 401"),
        ("/api/grid", br#"{"surface": "sphere", "x": [0, 1], "y": [0, 1], "n": 1}"#.to_vec(), "n must be between 2 and 400"),
        ("/api/grid", br#"{"surface": "sphere", "x": [1, 1], "y": [0, 1], "n": 10}"#.to_vec(), "x must be two finite numbers"),
        ("/api/grid", br#"{"surface": "sphere", "x": [-1.7e308, 1.7e308], "y": [0, 1], "n": 10}"#.to_vec(), "x must be two finite numbers"),
        ("/api/gradient", br#"{"surface": "sphere", "points": []}"#.to_vec(), "the number of points must be between 1 and 4096"),
        ("/api/sweep", br#"{"surface": "sphere", "optimizers": ["gd"], "lrs": [], "steps": 10}"#.to_vec(), "learning rates must be between 1 and 64"),
        ("/api/sweep", br#"{"surface": "sphere", "optimizers": ["gd"], "lrs": [-0.1], "steps": 10}"#.to_vec(), "lr"),
        ("/api/sweep", br#"{"surface": "sphere", "optimizers": ["gd"], "lrs": [0.1], "steps": 10, "param": {"key": "momentum", "values": ["0.5"]}}"#.to_vec(), "none of the optimizers has the key 'momentum'"),
        ("/api/sweep", br#"{"surface": "sphere", "optimizers": ["gd"], "lrs": [0.1], "steps": 10, "param": {"key": "lr", "values": ["0.5"]}}"#.to_vec(), "any key but lr"),
        ("/api/sweep", br#"{"surface": "sphere", "optimizers": ["gd"], "lrs": [0.1], "steps": 10, "param": {"key": "weight_decay", "values": []}}"#.to_vec(), "the number of values must be between 1 and 64, got 0"),
        ("/api/sweep", br#"{"surface": "sphere", "optimizers": ["gd"], "lrs": [0.1], "steps": 10, "param": {"key": "weight_decay", "values": ["0"], "extra": 1}}"#.to_vec(), "extra"),
        ("/api/sweep", br#"{"surface": "x^2", "optimizers": ["gd"], "lrs": [0.1], "steps": 10, "criterion": "steps-to=0.1"}"#.to_vec(), "known minima"),
        ("/api/sweep", br#"{"surface": "sphere", "optimizers": ["gd"], "lrs": [0.1], "steps": 10, "criterion": "fast"}"#.to_vec(), "unknown criterion 'fast'"),
        ("/api/tune", br#"{"surface": "sphere", "optimizers": ["gd"], "steps": 10, "criterion": "best"}"#.to_vec(), "unknown criterion 'best'"),
        ("/api/tune", br#"{"surface": "x^2", "optimizers": ["gd"], "steps": 10, "criterion": "steps-to=0.1"}"#.to_vec(), "known minima"),
        ("/api/tune", br#"{"surface": "sphere", "optimizers": ["gd"], "steps": 10, "grid": "1e-4:1:65"}"#.to_vec(), "learning rates must be between 1 and 64"),
                ("/api/surface", br#"{"surface": "sin(x"}"#.to_vec(), "formula: column 6"),
    ];
    for (path, body, needle) in &cases {
        server.refused(path, body, needle);
    }
    // a formula error carries its column for the page's caret
    let (status, doc) = server.post("/api/surface", &json!({"surface": "x + * y"}));
    assert_eq!((status, doc["column"].as_u64()), (400, Some(5)));
    // 16 optimizers × 64 lrs × 2000 steps
    let sweep = json!({"surface": "sphere", "optimizers": vec!["gd"; 16], "lrs": vec![0.1; 64], "steps": 2000});
    server.refused(
        "/api/sweep",
        sweep.to_string().as_bytes(),
        "at most 2000000 updates (optimizers × lrs × steps), this one 2048000",
    );
    // 1 optimizer × 64 values × 64 lrs × 500 steps
    let values: Vec<String> = (0..64).map(|k| k.to_string()).collect();
    let sweep = json!({"surface": "sphere", "optimizers": ["gd"], "lrs": vec![0.1; 64], "steps": 500,
        "param": {"key": "weight_decay", "values": values}});
    server.refused(
        "/api/sweep",
        sweep.to_string().as_bytes(),
        "at most 2000000 updates (optimizers × values × lrs × steps), this one 2048000",
    );
    // 4097 points
    let points = vec![[0, 0]; 4097];
    server.refused(
        "/api/gradient",
        json!({"surface": "sphere", "points": points})
            .to_string()
            .as_bytes(),
        "between 1 and 4096, got 4097",
    );
    // bodies over 64 KiB: 413 with a JSON error
    let big =
        json!({"surface": format!("x{}", " ".repeat(70_000)), "optimizers": ["gd"], "steps": 1})
            .to_string();
    let (status, kind, body) = server.send("POST", "/api/run", big.as_bytes());
    assert_eq!(status, 413);
    assert!(kind.starts_with("application/json"));
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("larger than 65536 bytes"));
    // wrong method and unknown path
    let (status, kind, _) = server.get("/api/run");
    assert_eq!((status, kind.starts_with("application/json")), (405, true));
    let (status, doc) = server.post("/api/nothing", &json!({}));
    assert_eq!(
        (status, doc["error"].as_str()),
        (404, Some("no such page or endpoint"))
    );
    // still serving
    let doc = server.ok(
        "/api/run",
        json!({"surface": "sphere", "start": [1, 1], "optimizers": ["gd:lr=0.25"], "steps": 1}),
    );
    assert_eq!(doc["runs"][0]["points"][1], json!([0.5, 0.5, 0.5]));
}

#[test]
fn fifty_parallel_runs_are_all_answered() {
    let server = Server::start();
    let request = json!({"surface": "rosenbrock", "start": [-1.2, 1], "optimizers": ["adam:lr=0.01", "nag:lr=0.0005"], "steps": 2000, "overlays": true});
    let expected = server.ok("/api/run", request.clone());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| scope.spawn(|| server.post("/api/run", &request)))
            .collect();
        for handle in handles {
            let (status, doc) = handle.join().unwrap();
            assert_eq!(status, 200);
            assert!(doc == expected);
        }
    });
}

#[test]
fn a_port_in_use_is_an_error() {
    let server = Server::start();
    let port = server.address.rsplit(':').next().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_downhill"))
        .args(["serve", "--port", port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!("error: cannot listen on 127.0.0.1:{port}: ")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
    assert!(out.stdout.is_empty());
}

/// The events of a finished `/api/train` stream as (name, data) pairs.
fn train_events(server: &Server, request: &Value) -> Vec<(String, Value)> {
    let (status, kind, body) = server.send("POST", "/api/train", request.to_string().as_bytes());
    let text = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{request} → {text}");
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty() && !block.starts_with(':'))
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_else(|| panic!("no {name} in {block:?}"))
                    .to_string()
            };
            let data: Value = serde_json::from_str(&field("data: ")).unwrap();
            (field("event: "), data)
        })
        .collect()
}

#[test]
fn train_streams_every_epoch_and_ends_as_downhill_train_does() {
    let server = Server::start();
    let cases = [
        (
            "iris",
            "softmax",
            vec!["sgd:lr=0.1,momentum=0.9", "adam:lr=0.01"],
            5,
            json!(16),
            None,
            "f32",
        ),
        (
            "moons:n=300,noise=0.2,seed=4",
            "mlp:hidden=[16,8],activation=tanh",
            vec![
                "adamw:lr=0.01",
                "rmsprop:lr=0.003",
                "nag:lr=0.05,momentum=0.9",
            ],
            4,
            json!("full"),
            Some("cosine:t_max=4"),
            "f64",
        ),
    ];
    for (dataset, model, specs, epochs, batch, schedule, dtype) in cases {
        let mut request = json!({
            "dataset": dataset, "model": model, "optimizers": specs, "epochs": epochs,
            "batch_size": batch, "seed": 3, "dtype": dtype,
        });
        if let Some(s) = schedule {
            request["schedule"] = s.into();
        }
        let events = train_events(&server, &request);
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        let mut expected_names = vec!["start"];
        expected_names.extend(std::iter::repeat_n("epoch", specs.len() * epochs));
        expected_names.push("summary");
        assert_eq!(names, expected_names, "{dataset}");
        let start = &events[0].1;
        assert_eq!(start["dataset"], dataset);
        assert_eq!(start["optimizers"], json!(specs));
        for (k, (_, e)) in events[1..=specs.len() * epochs].iter().enumerate() {
            assert_eq!(e["run"], k / epochs, "{e}");
            assert_eq!(e["optimizer"], specs[k / epochs], "{e}");
            assert_eq!(e["epoch"], k % epochs + 1, "{e}");
            for key in ["train_loss", "test_loss", "accuracy", "lr", "seconds"] {
                assert!(e[key].as_f64().unwrap().is_finite(), "{key} in {e}");
            }
        }
        let summary = &events.last().unwrap().1;
        assert_eq!(summary["runs"].as_array().unwrap().len(), specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let batch_text = batch.to_string().trim_matches('"').to_string();
            let mut args = vec![
                "train",
                "--dataset",
                dataset,
                "--model",
                model,
                "-o",
                spec,
                "--epochs",
            ];
            let epochs_text = epochs.to_string();
            args.extend([epochs_text.as_str(), "--batch-size", &batch_text]);
            args.extend(["--seed", "3", "--dtype", dtype, "--format", "json", "-q"]);
            if let Some(s) = schedule {
                args.extend(["--schedule", s]);
            }
            let out = String::from_utf8(cli(&args)).unwrap();
            let cli_summary: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
            let run = &summary["runs"][i];
            assert_eq!(run["optimizer"], *spec);
            // the same code path and seed: bit-identical numbers
            for key in [
                "train_loss",
                "test_loss",
                "test_accuracy",
                "epochs",
                "steps",
            ] {
                assert_eq!(run[key], cli_summary[key], "{dataset} {spec} {key}");
            }
            let last_epoch = &events[(i + 1) * epochs].1;
            assert_eq!(last_epoch["train_loss"], cli_summary["train_loss"]);
            assert_eq!(last_epoch["accuracy"], cli_summary["test_accuracy"]);
        }
    }
}

#[test]
fn a_diverging_run_is_reported_and_the_others_go_on() {
    let server = Server::start();
    let request = json!({
        "dataset": "diabetes", "model": "linear", "optimizers": ["sgd:lr=1000", "adam:lr=0.1"],
        "epochs": 3, "batch_size": 8,
    });
    let events = train_events(&server, &request);
    let failed: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "failed")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0]["run"], 0);
    assert!(failed[0]["error"]
        .as_str()
        .unwrap()
        .contains("the loss became"));
    let adam_epochs = events
        .iter()
        .filter(|(n, d)| n == "epoch" && d["run"] == 1)
        .count();
    assert_eq!(adam_epochs, 3);
    let summary = &events.last().unwrap().1;
    assert!(summary["runs"][0]["error"].is_string());
    assert!(summary["runs"][1]["error"].is_null());
    assert!(
        summary["runs"][1]["test_accuracy"].is_null(),
        "regression has no accuracy"
    );
}

#[test]
fn bad_training_requests_get_400_before_any_stream() {
    let server = Server::start();
    let base = json!({
        "dataset": "iris", "model": "softmax", "optimizers": ["adam"], "epochs": 5,
    });
    let with = |key: &str, value: Value| {
        let mut r = base.clone();
        r[key] = value;
        r.to_string()
    };
    let many: Vec<String> = (0..9).map(|_| "sgd".to_string()).collect();
    let cases = [
        (with("dataset", json!("/etc/passwd")), "invalid spec"),
        (with("dataset", json!("data/iris.csv")), "invalid spec"),
        (with("dataset", json!("mnist")), "unknown dataset 'mnist'"),
        (
            with("dataset", json!("moons:n=100000")),
            "moons n may be at most 5000",
        ),
        (with("dataset", json!("blobs:classes=500")), "at most 50"),
        (with("dataset", json!("moons:wobble=2")), "wobble"),
        (with("model", json!("resnet")), "resnet"),
        (
            with("model", json!("mlp:hidden=[4096]")),
            "units per hidden layer",
        ),
        (
            with("model", json!("mlp:hidden=[8,8,8,8,8]")),
            "hidden layers",
        ),
        (with("model", json!("linear")), "class labels"),
        (with("optimizers", json!([])), "between 1 and 8"),
        (with("optimizers", json!(many)), "between 1 and 8, got 9"),
        (with("optimizers", json!(["adam:lr=-1"])), "lr"),
        (with("optimizers", json!(["bogus"])), "bogus"),
        (with("epochs", json!(0)), "epochs must be between 1 and 200"),
        (with("epochs", json!(201)), "got 201"),
        (with("epochs", json!(-1)), "invalid JSON"),
        (with("batch_size", json!(0)), "batch size"),
        (with("batch_size", json!("half")), "batch size"),
        (with("batch_size", json!([1])), "batch_size"),
        (with("schedule", json!("warp:x=1")), "warp"),
        (with("schedule_unit", json!("hour")), "schedule_unit"),
        (with("dtype", json!("f16")), "dtype"),
        (
            with("on_non_finite", json!("ignore")),
            "(valid: error, skip, zero, propagate)",
        ),
        (with("test_fraction", json!(1.5)), "test-fraction"),
        (with("surface", json!("x")), "unknown field"),
        ("{".to_string(), "invalid JSON"),
    ];
    for (body, needle) in cases {
        server.refused("/api/train", body.as_bytes(), needle);
    }
    // the server goes on
    let events = train_events(&server, &base);
    assert_eq!(events.last().unwrap().0, "summary");
}

/// Starts a long training job and reads its stream up to the first epoch event.
fn open_long_job(server: &Server) -> Result<BufReader<TcpStream>, u16> {
    let body = json!({
        "dataset": "digits", "model": "mlp:hidden=[256]", "optimizers": ["sgd:lr=0.01"],
        "epochs": 200, "batch_size": 1,
    })
    .to_string();
    let mut stream = TcpStream::connect(&server.address).unwrap();
    let head = format!(
        "POST /api/train HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server.address,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
    if status != 200 {
        return Err(status);
    }
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the stream ended early"
        );
        if line.starts_with("event: epoch") {
            return Ok(reader);
        }
    }
}

#[test]
fn jobs_are_limited_and_a_client_that_leaves_stops_its_job() {
    let server = Server::start();
    let jobs: Vec<_> = (0..4).map(|_| open_long_job(&server).unwrap()).collect();
    assert_eq!(open_long_job(&server).err(), Some(503));
    // other requests are still served meanwhile
    let (status, _, _) = server.get("/api/optimizers");
    assert_eq!(status, 200);
    drop(jobs);
    // the jobs notice at their next epoch and free their places
    let started = std::time::Instant::now();
    loop {
        match open_long_job(&server) {
            Ok(_) => break,
            Err(503) if started.elapsed().as_secs() < 20 => {
                std::thread::sleep(std::time::Duration::from_millis(200))
            }
            Err(status) => panic!("no place freed after the clients left: {status}"),
        }
    }
}

/// `VmRSS` and `VmHWM` (peak) of a process in KiB, from /proc/PID/status.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[test]
fn two_hundred_concurrent_runs_are_all_answered_identically_in_bounded_memory() {
    let mut server = Server::start();
    let pid = server.child.id();
    let request = json!({"surface": "rosenbrock", "start": [-1.2, 1],
        "optimizers": ["adam:lr=0.01", "nag:lr=0.0005", "rmsprop:lr=0.001", "momentum:lr=0.0005"],
        "steps": 400});
    let body = request.to_string();
    let (status, _, expected) = server.send("POST", "/api/run", body.as_bytes());
    assert_eq!(status, 200);
    let (rss_before, _) = memory_kib(pid);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..200)
            .map(|_| scope.spawn(|| server.send("POST", "/api/run", body.as_bytes())))
            .collect();
        for handle in handles {
            let (status, _, answer) = handle.join().unwrap();
            assert_eq!(status, 200);
            assert!(
                answer == expected,
                "an answer differs from the sequential one"
            );
        }
    });
    let elapsed = started.elapsed();
    let (rss_after, peak) = memory_kib(pid);
    eprintln!(
        "200 concurrent /api/run ({} bytes each): {:.2} s; server VmRSS {} KiB before, {} KiB after, VmHWM {} KiB",
        expected.len(),
        elapsed.as_secs_f64(),
        rss_before,
        rss_after,
        peak
    );
    assert!(peak < 512 * 1024, "peak memory {peak} KiB");
    // still up and answering
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
    let (status, _, again) = server.send("POST", "/api/run", body.as_bytes());
    assert_eq!((status, again == expected), (200, true));
}

/// Reads from a stalled connection until the server closes it; returns what
/// it sent (the hang guard fails the test if it never does).
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
    let mut got = Vec::new();
    match stream.read_to_end(&mut got) {
        Ok(_) => got,
        // a reset also means the server closed it
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => got,
        Err(e) => panic!("the server did not close a stalled connection: {e}"),
    }
}

#[test]
fn slow_clients_are_cut_off_and_do_not_block_others() {
    let server = Server::start();
    // 50 connections that send half a request head and stall
    let mut half_heads: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(&server.address).unwrap();
            s.write_all(
                format!(
                    "POST /api/run HTTP/1.1\r\nHost: {}\r\nContent-Le",
                    server.address
                )
                .as_bytes(),
            )
            .unwrap();
            s
        })
        .collect();
    // 10 that announce a body and send a tenth of it
    let mut slow_bodies: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut s = TcpStream::connect(&server.address).unwrap();
            s.write_all(format!("POST /api/run HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"surface\"", server.address).as_bytes())
                .unwrap();
            s
        })
        .collect();
    // 20 that connect and send nothing
    let mut silent: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&server.address).unwrap())
        .collect();
    // 5 that send a head byte by byte, and 5 a body, a byte every 100 ms
    let trickles: Vec<_> = (0..10)
        .map(|k| {
            let mut s = TcpStream::connect(&server.address).unwrap();
            if k % 2 == 1 {
                s.write_all(format!("POST /api/run HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", server.address).as_bytes())
                    .unwrap();
            } else {
                s.write_all(b"POST /api/run HTTP/1.1\r\nX-Slow: ").unwrap();
            }
            std::thread::spawn(move || {
                let started = Instant::now();
                // writes fail once the server has closed the connection
                while s.write_all(b"a").is_ok() {
                    assert!(
                        started.elapsed() < HANG_GUARD,
                        "a trickling client was never cut off"
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    // a normal client is answered meanwhile
    let doc = server.ok(
        "/api/run",
        json!({"surface": "sphere", "start": [1, 1], "optimizers": ["gd:lr=0.25"], "steps": 1}),
    );
    assert_eq!(doc["runs"][0]["points"][1], json!([0.5, 0.5, 0.5]));
    // the server closes the stalled connections after its timeouts
    for s in half_heads.iter_mut().chain(silent.iter_mut()) {
        let got = read_until_closed(s);
        let text = String::from_utf8_lossy(&got);
        assert!(got.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    for s in &mut slow_bodies {
        let got = String::from_utf8(read_until_closed(s)).unwrap();
        assert!(got.starts_with("HTTP/1.1 408"), "{got}");
        assert!(
            got.contains(r#"{"error":"the request body did not arrive within 10 s"}"#),
            "{got}"
        );
    }
    for t in trickles {
        t.join().unwrap();
    }
    let (status, _, _) = server.get("/api/optimizers");
    assert_eq!(status, 200);
}

#[test]
fn connections_over_the_cap_wait_until_stalled_ones_are_cut_off() {
    let server = Server::start();
    // as many silent connections as the server serves at once (MAX_CONNECTIONS)
    let stalled: Vec<TcpStream> = (0..256)
        .map(|_| TcpStream::connect(&server.address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let doc = server.ok(
        "/api/run",
        json!({"surface": "sphere", "start": [1, 1], "optimizers": ["gd:lr=0.25"], "steps": 1}),
    );
    let waited = started.elapsed();
    assert_eq!(doc["runs"][0]["points"][1], json!([0.5, 0.5, 0.5]));
    // no slot frees before the header timeout (10 s) closes a silent connection
    assert!(
        waited >= Duration::from_secs(5),
        "answered after {waited:?}"
    );
    drop(stalled);
}

#[test]
fn emit_answers_what_downhill_run_emit_prints() {
    let server = Server::start();
    let args = [
        "run",
        "--surface",
        "booth",
        "--start",
        "1,-2",
        "-o",
        "adam:lr=0.1",
        "-o",
        "nag",
        "--steps",
        "20",
        "--schedule",
        "step:step_size=5",
        "--param-shape",
        "1x2",
        "--emit",
    ];
    for language in ["pytorch", "rust"] {
        let request = json!({
            "language": language, "surface": "booth", "start": [1, -2],
            "optimizers": ["adam:lr=0.1", "nag"], "steps": 20,
            "schedule": "step:step_size=5", "param_shape": "1x2",
        });
        let (status, kind, text) = server.send("POST", "/api/emit", request.to_string().as_bytes());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&text));
        assert!(kind.starts_with("text/plain"), "{kind}");
        assert_eq!(text, cli(&[&args[..], &[language]].concat()), "{language}");
    }
    let body = |language: &str, spec: &str| {
        json!({"language": language, "surface": "booth", "optimizers": [spec], "steps": 5})
            .to_string()
    };
    server.refused("/api/emit", body("java", "adam").as_bytes(), "pytorch");
    server.refused("/api/emit", body("rust", "adam:lr=-1").as_bytes(), "lr");
    server.refused("/api/emit", body("pytorch", "muon").as_bytes(), "shape");
}
