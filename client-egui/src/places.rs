//! The offline gazetteer (`data/places.tsv`: Turkey's province centres and
//! well-known towns, every country's capital, large cities elsewhere) the
//! location form searches: a place is found by name with no lookup over
//! the network, so nobody learns what the user looked for.

use std::sync::OnceLock;

use kovan_node::node::fold_for_search;

/// A place on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Its usual name ("İstanbul", "Vienna").
    pub name: String,
    /// Other names and spellings ("Istanbul"; "Wien", "Viyana").
    pub alt: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub lon: f64,
    /// Its names folded for matching.
    folded: Vec<String>,
}

impl Place {
    /// "İstanbul, TR".
    pub fn label(&self) -> String {
        format!("{}, {}", self.name, self.country)
    }
}

/// Every place, parsed once (lines that do not parse are skipped).
pub fn all() -> &'static [Place] {
    static PLACES: OnceLock<Vec<Place>> = OnceLock::new();
    PLACES.get_or_init(|| parse(include_str!("../data/places.tsv")))
}

fn parse(tsv: &str) -> Vec<Place> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let [name, alt, country, lat, lon] = f[..] else { return None };
            let alt: Vec<String> = alt
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            let folded = std::iter::once(name)
                .chain(alt.iter().map(String::as_str))
                .map(fold_for_search)
                .collect();
            Some(Place {
                name: name.to_owned(),
                alt,
                country: country.to_owned(),
                lat: lat.parse().ok()?,
                lon: lon.parse().ok()?,
                folded,
            })
        })
        .collect()
}

/// Places whose names match `query` (case and Turkish i ignored), best
/// first: a whole name, then names that start with it, then names that
/// contain it; at most `n`.
pub fn search(query: &str, n: usize) -> Vec<&'static Place> {
    let q = fold_for_search(query.trim());
    if q.is_empty() {
        return Vec::new();
    }
    let rank = |p: &Place| {
        p.folded
            .iter()
            .map(|f| {
                if *f == q {
                    0
                } else if f.starts_with(&q) {
                    1
                } else if f.contains(&q) {
                    2
                } else {
                    3
                }
            })
            .min()
            .unwrap_or(3)
    };
    let mut hits: Vec<(u8, &Place)> =
        all().iter().map(|p| (rank(p), p)).filter(|(r, _)| *r < 3).collect();
    hits.sort_by_key(|(r, _)| *r);
    hits.into_iter().take(n).map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gazetteer_parses_whole_and_in_range() {
        let all = all();
        assert!(all.len() > 500, "{} places", all.len());
        let lines =
            include_str!("../data/places.tsv").lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(all.len(), lines, "a line did not parse");
        for p in all {
            assert!((-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lon), "{p:?}");
            assert_eq!(p.country.len(), 2, "{p:?}");
        }
        assert_eq!(all.iter().filter(|p| p.country == "TR").count(), 81 + 32);
    }

    #[test]
    fn places_are_found_by_any_name_with_the_whole_name_first() {
        let ist = search("istanbul", 5);
        assert_eq!(ist[0].name, "İstanbul");
        assert!((ist[0].lat - 41.01).abs() < 0.05 && (ist[0].lon - 28.98).abs() < 0.05);
        assert_eq!(search("Münih", 3)[0].name, "Munich");
        assert_eq!(search("viyana", 3)[0].name, "Vienna");
        assert_eq!(search("ANKARA", 3)[0].name, "Ankara");
        assert_eq!(search("kadıköy", 3)[0].name, "Kadıköy");
        // Starts-with before contains: "an" finds Ankara before Tehran.
        let an = search("an", 50);
        let first_contains = an.iter().position(|p| !p.folded.iter().any(|f| f.starts_with("an")));
        let last_prefix = an.iter().rposition(|p| p.folded.iter().any(|f| f.starts_with("an")));
        assert!(first_contains.is_none_or(|c| last_prefix.is_none_or(|l| l < c)));
        assert!(search("  ", 5).is_empty());
        assert!(search("qqqq", 5).is_empty());
        assert_eq!(search("a", 3).len(), 3);
    }
}
