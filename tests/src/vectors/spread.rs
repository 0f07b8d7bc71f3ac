//! §6.11 spreading messages: a spread by a fixed account key, signed with
//! a fixed hop seed, passed on to its limit, and its retraction.

use kovan_crypto::identity::AccountKey;
use kovan_crypto::spread;
use kovan_spec::encode;
use serde_json::json;

use super::{VectorFile, file, seed};

/// The spread at hop 1 and its retraction, as `app-envelope` cases carry
/// them.
pub(super) fn spread_contents()
-> anyhow::Result<(kovan_spec::wire::Spread, kovan_spec::wire::SpreadRetract)> {
    let author = AccountKey::from_seed(&seed(0x71));
    let first = spread::author_with(
        &author,
        &[0x5e; 32],
        [0x5d; 16],
        "Kayıp kedi: Tekir",
        3,
        1_796_000_000_000,
    )?;
    Ok((first, spread::retract(&author, &[0x5d; 16], 1_796_000_060_000)))
}

/// The spread's hops (1..=3) and a retraction by the author.
pub(super) fn spread_vectors() -> anyhow::Result<VectorFile> {
    let author = AccountKey::from_seed(&seed(0x71));
    let hop_seed = [0x5e; 32];
    let first = spread::author_with(
        &author,
        &hop_seed,
        [0x5d; 16],
        "Kayıp kedi: Tekir",
        3,
        1_796_000_000_000,
    )?;
    let mut hops = vec![first];
    while let Some(next) = hops
        .last()
        .map(|s| kovan_spec::validate::spread(s.clone()))
        .transpose()
        .map_err(anyhow::Error::msg)?
        .map(spread::verify)
        .transpose()?
        .and_then(|s| spread::pass_on(&s))
    {
        hops.push(next);
    }
    anyhow::ensure!(hops.len() == 3, "three hops");
    let retraction = spread::retract(&author, &[0x5d; 16], 1_796_000_060_000);
    Ok(file(
        "spread.json",
        json!({
            "description": "SPEC.md §6.11: a spreading message signed by its author (kovan/v1/spread over the SpreadCore encoding) with hop_anchor = H^hop_limit(seed), H(x) = SHA-256('kovan/v1/spread-hop' || x); hop h carries H^h(seed); a retraction signs id || retracted_ms (u64, big-endian) under kovan/v1/spread-retract",
            "author_seed": hex::encode(seed(0x71)),
            "author": hex::encode(author.id().as_bytes()),
            "hop_seed": hex::encode(hop_seed),
            "core": hex::encode(&hops[0].core),
            "signature": hex::encode(&hops[0].signature),
            "hops": hops.iter().map(|s| json!({
                "hop": s.hop,
                "hop_token": hex::encode(&s.hop_token),
                "encoding": hex::encode(encode(s)),
            })).collect::<Vec<_>>(),
            "retraction": {
                "id": hex::encode(&retraction.id),
                "retracted_ms": retraction.retracted_ms,
                "signature": hex::encode(&retraction.signature),
                "encoding": hex::encode(encode(&retraction)),
            },
        }),
    ))
}
