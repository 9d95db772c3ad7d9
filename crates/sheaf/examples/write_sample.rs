//! Writes a small particles table (`id`, `pos[3]`, `vel[3]`, `mass`, `flag`) with the `auto`
//! codec: `cargo run -p sheaf --example write_sample -- OUT.sheaf`.

use sheaf::{ArraySchema, ColumnInput, DType, Field, LeafType, WriteOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: write_sample OUT.sheaf")?;
    let n = 1_000_000usize;
    let f4x3 = || DType::subarray(DType::leaf(LeafType::Float(4)), vec![3]);
    let dtype = DType::structure(vec![
        Field::new("id", DType::leaf(LeafType::Int(8))),
        Field::new("pos", f4x3()),
        Field::new("vel", f4x3()),
        Field::new("mass", DType::leaf(LeafType::Float(8))),
        Field::new("flag", DType::leaf(LeafType::UInt(1))),
    ]);
    let id: Vec<i64> = (0..n as i64).collect();
    let pos: Vec<f32> = (0..3 * n).map(|i| ((i as f32) * 0.001).sin() * 100.0).collect();
    let vel: Vec<f32> = (0..3 * n).map(|i| ((i % 1000) as f32 - 500.0) * 0.01).collect();
    let mass: Vec<f64> = (0..n).map(|i| [1.0, 2.5, 10.0][i % 3]).collect();
    let flag: Vec<u8> = (0..n).map(|i| u8::from(i % 97 == 0)).collect();
    let inputs = vec![ColumnInput::fixed(&id), ColumnInput::fixed(&pos), ColumnInput::fixed(&vel), ColumnInput::fixed(&mass), ColumnInput::fixed(&flag)];
    sheaf::write_arrays(&out, &[(ArraySchema::new("particles", dtype), inputs)], &WriteOptions::new())?;
    println!("wrote {out}");
    Ok(())
}
