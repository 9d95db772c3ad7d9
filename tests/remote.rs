//! Remote files: the CLI reads sheaf files named by `http://` and `s3://` URLs by byte ranges
//! (a range-capable HTTP server of our own, `tests/py/range_server.py`, and moto's S3 server,
//! both started here on 127.0.0.1), writes to them, and queries them; the request log shows open
//! plus one column of a 200-column file costs at most 3 requests and at most that column's bytes
//! plus the footer plus 10%, and no more requests or bytes than pyarrow reading the same data as
//! Parquet over the same server. Failures are one line naming the URL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sheaf::{ArraySchema, Codec, ColumnInput, DType, Field, LeafType, WriteOptions};

use crate::util::{python, repo_root, run_python, sheaf_bin};

/// A server process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/py/range_server.py` serving `root`, logging requests to `log`.
fn range_server(root: &Path, log: &Path) -> Server {
    let py = python(&["json"]);
    let mut child = Command::new(py).arg(repo_root().join("tests/py/range_server.py")).arg(root).arg(log).stdout(Stdio::piped()).spawn().expect("starting the HTTP server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| panic!("the HTTP server printed {line:?}, not its port"));
    Server { child, port }
}

/// moto's S3 server from the venv, with bucket `bucket` created.
fn moto(bucket: &str) -> Server {
    let bin = python(&["moto.server"]).parent().unwrap().join("moto_server");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            // Bucket creation: moto takes unsigned requests.
            write!(s, "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
            let mut reply = String::new();
            let _ = s.read_to_string(&mut reply);
            if reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200") {
                return server;
            }
        }
        assert!(Instant::now() < deadline, "moto did not start on port {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The environment that points object_store's S3 client at moto.
fn s3_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing-secret".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

fn run(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(sheaf_bin());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running sheaf")
}

fn ok(args: &[&str], env: &[(&str, String)]) -> String {
    let out = run(args, env);
    assert!(out.status.success(), "sheaf {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failure(args: &[&str], env: &[(&str, String)]) -> String {
    let out = run(args, env);
    assert_eq!(out.status.code(), Some(1), "sheaf {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

/// (GET/HEAD requests, body bytes) logged since the log was last emptied; empties it.
fn take_log(log: &Path) -> (usize, u64, String) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    std::fs::write(log, "").unwrap();
    let entries: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let reads: Vec<&serde_json::Value> = entries.iter().filter(|e| e["method"] == "GET" || e["method"] == "HEAD").collect();
    (reads.len(), reads.iter().map(|e| e["bytes"].as_u64().unwrap()).sum(), text)
}

/// A 200-column table of pseudo-random doubles (incompressible), one chunk per column.
fn write_wide(path: &Path, rows: usize) {
    let fields: Vec<Field> = (0..200).map(|i| Field::new(format!("c{i:03}"), DType::leaf(LeafType::Float(8)))).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let columns: Vec<Vec<f64>> = (0..200)
        .map(|_| {
            (0..rows)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    (state >> 11) as f64 / (1u64 << 53) as f64
                })
                .collect()
        })
        .collect();
    let schema = ArraySchema::new("wide", DType::structure(fields)).with_shape(vec![rows as u64]);
    let inputs: Vec<ColumnInput<'_>> = columns.iter().map(|c| ColumnInput::fixed(c)).collect();
    sheaf::write_arrays(path, &[(schema, inputs)], &WriteOptions::new().with_codec(Codec::AUTO).with_row_group_rows(rows as u64)).unwrap();
}

#[test]
fn one_column_of_a_wide_file_over_http_costs_few_requests_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    std::fs::create_dir(&root).unwrap();
    let log = dir.path().join("requests.jsonl");
    let wide = root.join("wide.sheaf");
    write_wide(&wide, 20_000);
    ok(&["convert", wide.to_str().unwrap(), root.join("wide.parquet").to_str().unwrap()], &[]);
    let server = range_server(&root, &log);
    let base = format!("http://127.0.0.1:{}", server.port);

    // What the column costs: its stored bytes, and the footer (all that is not column data).
    let doc: serde_json::Value = serde_json::from_str(&ok(&["inspect", "--json", wide.to_str().unwrap()], &[])).unwrap();
    let columns = doc["arrays"][0]["columns"].as_array().unwrap();
    let stored = |name: &str| columns.iter().find(|c| c["name"] == name).unwrap()["stored_bytes"].as_u64().unwrap();
    let all_stored: u64 = columns.iter().map(|c| c["stored_bytes"].as_u64().unwrap()).sum();
    let footer = doc["file_bytes"].as_u64().unwrap() - all_stored;

    let local = dir.path().join("local.npy");
    ok(&["convert", wide.to_str().unwrap(), "--select", "c117", local.to_str().unwrap()], &[]);
    let fetched = dir.path().join("fetched.npy");
    take_log(&log);
    ok(&["convert", &format!("{base}/wide.sheaf"), "--select", "c117", fetched.to_str().unwrap()], &[]);
    let (requests, bytes, text) = take_log(&log);
    assert_eq!(std::fs::read(&fetched).unwrap(), std::fs::read(&local).unwrap(), "the column read over HTTP differs");
    assert!(requests <= 3, "{requests} requests for open + one column:\n{text}");
    let limit = (stored("c117") + footer) as f64 * 1.1;
    assert!((bytes as f64) <= limit, "{bytes} bytes fetched, more than (column {} + footer {footer}) + 10%:\n{text}", stored("c117"));

    // pyarrow reading the same column of the same data as Parquet, over the same server.
    let out = run_python(&["pyarrow"], "remote_parquet.py", &[Path::new(&format!("{base}/wide.parquet")), Path::new("c117")]);
    let parquet: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (pq_requests, pq_bytes, pq_text) = take_log(&log);
    assert_eq!(parquet["rows"], 20_000);
    eprintln!("open + one column of 200: sheaf {requests} requests, {bytes} bytes; pyarrow Parquet {pq_requests} requests, {pq_bytes} bytes\nsheaf:\n{text}pyarrow:\n{pq_text}");
    assert!(requests <= pq_requests, "sheaf made {requests} requests, pyarrow {pq_requests}:\n{text}\n{pq_text}");
    assert!(bytes <= pq_bytes, "sheaf fetched {bytes} bytes, pyarrow {pq_bytes}:\n{text}\n{pq_text}");

    // The other commands take the URL too, and never fetch the whole object for one column.
    let head = ok(&["head", &format!("{base}/wide.sheaf"), "--select", "c000,c001", "-n", "3"], &[]);
    assert!(head.contains("c001") && head.lines().count() >= 4, "{head}");
    let verify = ok(&["verify", &format!("{base}/wide.sheaf")], &[]);
    assert!(verify.contains(": ok"), "{verify}");
    let remote_doc: serde_json::Value = serde_json::from_str(&ok(&["inspect", "--json", &format!("{base}/wide.sheaf")], &[])).unwrap();
    assert_eq!(remote_doc["arrays"], doc["arrays"]);
    assert_eq!(remote_doc["file"], format!("{base}/wide.sheaf"));
    take_log(&log);
    let q = format!("SELECT count(*) AS n, sum(c117) AS s FROM '{base}/wide.sheaf' WHERE c000 < 0.5");
    let remote_sql = ok(&["sql", "--csv", &q], &[]);
    let (_, sql_bytes, _) = take_log(&log);
    let local_sql = ok(&["sql", "--csv", &q.replace(&base, root.to_str().unwrap())], &[]);
    assert_eq!(remote_sql, local_sql);
    assert!(sql_bytes < doc["file_bytes"].as_u64().unwrap() / 10, "a two-column query fetched {sql_bytes} bytes");

    // Other formats from a URL (spooled), and output to one (PUT).
    let pq_copy = dir.path().join("from_parquet.npy");
    ok(&["convert", &format!("{base}/wide.parquet"), "--select", "c117", pq_copy.to_str().unwrap()], &[]);
    assert_eq!(std::fs::read(&pq_copy).unwrap(), std::fs::read(&local).unwrap());
    ok(&["convert", local.to_str().unwrap(), &format!("{base}/up/c117.sheaf")], &[]);
    let back = sheaf::File::open(root.join("up/c117.sheaf")).unwrap();
    assert_eq!(back.single().unwrap().rows(), 20_000);

    // Failures: one line naming the URL.
    let err = failure(&["inspect", &format!("{base}/missing.sheaf")], &[]);
    assert!(err.contains(&format!("{base}/missing.sheaf")) && err.contains("no such object"), "{err}");
    let err = failure(&["head", &format!("{base}/wide.parquet.sheaf")], &[]);
    assert!(err.contains("wide.parquet.sheaf"), "{err}");
    drop(server);
    let err = failure(&["verify", &format!("{base}/wide.sheaf")], &[]);
    assert!(err.contains(&format!("{base}/wide.sheaf")), "{err}");
    let err = failure(&["inspect", "ftp://host/a.sheaf"], &[]);
    assert!(err.contains("unknown scheme"), "{err}");
}

#[test]
fn s3_urls_work_wherever_a_path_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = moto("sheaf-test");
    let env = s3_env(server.port);
    let wide = dir.path().join("wide.sheaf");
    write_wide(&wide, 5_000);
    let url = "s3://sheaf-test/data/wide.sheaf";
    // Up (convert to a URL), inspect, head, verify, down again, and a query.
    ok(&["convert", wide.to_str().unwrap(), url], &env);
    let local_doc: serde_json::Value = serde_json::from_str(&ok(&["inspect", "--json", wide.to_str().unwrap()], &[])).unwrap();
    let remote_doc: serde_json::Value = serde_json::from_str(&ok(&["inspect", "--json", url], &env)).unwrap();
    assert_eq!(remote_doc["arrays"], local_doc["arrays"]);
    assert!(ok(&["verify", url], &env).contains(": ok"));
    let head = ok(&["head", url, "--select", "c199", "-n", "2"], &env);
    assert_eq!(head, ok(&["head", wide.to_str().unwrap(), "--select", "c199", "-n", "2"], &[]).replace(wide.to_str().unwrap(), url));
    let back = dir.path().join("back.sheaf");
    ok(&["convert", url, back.to_str().unwrap(), "--codec", "none"], &env);
    let (a, b) = (sheaf::File::open(&wide).unwrap(), sheaf::File::open(&back).unwrap());
    for name in ["c000", "c123", "c199"] {
        assert_eq!(
            a.single().unwrap().column(name).unwrap().read().unwrap().values_as::<f64>().unwrap(),
            b.single().unwrap().column(name).unwrap().read().unwrap().values_as::<f64>().unwrap(),
            "{name}"
        );
    }
    let q = "SELECT count(*) AS n, max(c050) AS m FROM 's3://sheaf-test/data/wide.sheaf' WHERE c001 > 0.25";
    assert_eq!(ok(&["sql", "--csv", q], &env), ok(&["sql", "--csv", &q.replace("s3://sheaf-test/data", dir.path().to_str().unwrap())], &[]));
    // A Parquet object (spooled) and a query result written to S3.
    ok(&["convert", wide.to_str().unwrap(), "s3://sheaf-test/data/wide.parquet"], &env);
    let from_pq = dir.path().join("from_pq.sheaf");
    ok(&["convert", "s3://sheaf-test/data/wide.parquet", from_pq.to_str().unwrap()], &env);
    assert_eq!(sheaf::File::open(&from_pq).unwrap().single().unwrap().rows(), 5_000);
    ok(&["sql", "SELECT c000 FROM 's3://sheaf-test/data/wide.sheaf' LIMIT 10", "-o", "s3://sheaf-test/out/ten.sheaf"], &env);
    let ten: serde_json::Value = serde_json::from_str(&ok(&["inspect", "--json", "s3://sheaf-test/out/ten.sheaf"], &env)).unwrap();
    assert_eq!(ten["arrays"][0]["rows"], 10);
    // A missing object and a missing bucket: one line naming the URL.
    let err = failure(&["inspect", "s3://sheaf-test/data/nope.sheaf"], &env);
    assert!(err.contains("s3://sheaf-test/data/nope.sheaf"), "{err}");
    let err = failure(&["head", "s3://no-such-bucket/x.sheaf"], &env);
    assert!(err.contains("s3://no-such-bucket/x.sheaf"), "{err}");
    // Credentials are never printed.
    assert!(!err.contains("testing-secret"), "{err}");
}

#[test]
fn a_dataset_folder_on_s3_reads_as_the_local_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = moto("sheaf-ds");
    let env = s3_env(server.port);
    let root = crate::dataset::hive(dir.path());
    let (_, files) = sheaf_convert::Dataset::list(&root).unwrap();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().to_str().unwrap();
        ok(&["convert", f.to_str().unwrap(), &format!("s3://sheaf-ds/events/{rel}")], &env);
    }
    // Passed over there as here.
    ok(&["convert", files[0].to_str().unwrap(), "s3://sheaf-ds/events/year=2024/_ignored.sheaf"], &env);
    let url = "s3://sheaf-ds/events/";
    let local = root.to_str().unwrap();
    let head_of = |p: &str, env: &[(&str, String)]| -> serde_json::Value { serde_json::from_str(&ok(&["head", p, "-n", "700", "--json"], env)).unwrap() };
    assert_eq!(head_of(url, &env)[0]["head"], head_of(local, &[])[0]["head"]);
    let doc: serde_json::Value = serde_json::from_str(&ok(&["inspect", "--json", url], &env)).unwrap();
    let paths: Vec<&str> = doc["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["s3://sheaf-ds/events/year=2023/part-0.sheaf", "s3://sheaf-ds/events/year=2024/part-0.sheaf", "s3://sheaf-ds/events/year=2024/part-1.sheaf"]);
    assert_eq!(doc["partitions"], serde_json::json!(["year"]));
    let q = "SELECT year, count(*) AS n, count(label) AS l, sum(x) AS s FROM 'ROOT' GROUP BY year ORDER BY year";
    assert_eq!(ok(&["sql", "--csv", &q.replace("ROOT", url)], &env), ok(&["sql", "--csv", &q.replace("ROOT", &format!("{local}/"))], &[]));
    let out = dir.path().join("all.sheaf");
    ok(&["convert", url, out.to_str().unwrap()], &env);
    assert_eq!(sheaf::File::open(&out).unwrap().single().unwrap().rows(), 700);

    // A glob on the store is the same table as the same glob here: listed under its fixed part
    // (where partitions start), `*` within one folder, `_` names passed over.
    let glob = "s3://sheaf-ds/events/*/part-*.sheaf";
    let local_glob = format!("{local}/*/part-*.sheaf");
    let doc: serde_json::Value = serde_json::from_str(&ok(&["inspect", "--json", glob], &env)).unwrap();
    let paths: Vec<&str> = doc["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["s3://sheaf-ds/events/year=2023/part-0.sheaf", "s3://sheaf-ds/events/year=2024/part-0.sheaf", "s3://sheaf-ds/events/year=2024/part-1.sheaf"]);
    assert_eq!(doc["partitions"], serde_json::json!(["year"]));
    assert_eq!(head_of(glob, &env)[0]["head"], head_of(&local_glob, &[])[0]["head"]);
    let one_year = "s3://sheaf-ds/events/year=2024/*.sheaf";
    let doc: serde_json::Value = serde_json::from_str(&ok(&["inspect", "--json", one_year], &env)).unwrap();
    assert_eq!(doc["files"].as_array().unwrap().len(), 2, "{doc}");
    let q = "SELECT count(*) AS n, sum(x) AS s FROM 'ROOT'";
    assert_eq!(ok(&["sql", "--csv", &q.replace("ROOT", glob)], &env), ok(&["sql", "--csv", &q.replace("ROOT", &local_glob)], &[]));
    let err = failure(&["inspect", "s3://sheaf-ds/events/*/nothing-*.sheaf"], &env);
    assert!(err.contains("no .sheaf objects match"), "{err}");
}
