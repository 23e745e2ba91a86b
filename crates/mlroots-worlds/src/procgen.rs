//! Tools for worlds generated per seed: breadth-first distances (every generated level is
//! checked solvable before it is returned), shuffles drawn from the episode's stream, and
//! per-episode permutations of the board's symbols (so that a learner cannot rely on which
//! value means what).

use mlroots_env::Rng;
use mlroots_grid::{Dir, Grid, Pos, ValueTable};

/// Distance (in moves) from `start` to every cell over cells that `passable` accepts;
/// `u32::MAX` where unreachable. `start` itself is at distance 0 whatever it holds.
pub fn bfs_distances(
    height: usize,
    width: usize,
    start: Pos,
    passable: impl Fn(Pos) -> bool,
) -> Grid<u32> {
    let mut dist = Grid::new(height, width, u32::MAX);
    if !dist.in_bounds(start) {
        return dist;
    }
    let mut queue = std::collections::VecDeque::with_capacity(height * width);
    dist.set(start, 0);
    queue.push_back(start);
    while let Some(p) = queue.pop_front() {
        let d = dist.get(p);
        for dir in Dir::ALL {
            let q = p.step(dir);
            if dist.in_bounds(q) && dist.get(q) == u32::MAX && passable(q) {
                dist.set(q, d + 1);
                queue.push_back(q);
            }
        }
    }
    dist
}

/// Shuffles `items` in place (Fisher–Yates over the episode's stream).
pub fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u32 + 1) as usize;
        items.swap(i, j);
    }
}

/// A uniformly random element of a non-empty slice.
pub fn choose<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.below(items.len() as u32) as usize]
}

/// `table` with the values of `symbols` permuted among themselves (the other characters keep
/// theirs): the board shows the same objects, under shuffled codes.
pub fn permute_values(rng: &mut Rng, table: &ValueTable, symbols: &[u8]) -> ValueTable {
    let mut values: Vec<f32> = symbols.iter().map(|&c| table.value(c)).collect();
    shuffle(rng, &mut values);
    let pairs: Vec<(u8, f32)> = (0..=255u8).map(|c| (c, table.value(c))).collect();
    let mut permuted = ValueTable::from_pairs(&pairs);
    for (&c, &v) in symbols.iter().zip(&values) {
        permuted = permuted.with(c, v);
    }
    permuted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfs_finds_distances_around_walls() {
        // ....
        // .##.
        // ....
        let walls = [Pos::new(1, 1), Pos::new(1, 2)];
        let d = bfs_distances(3, 4, Pos::new(1, 0), |p| !walls.contains(&p));
        assert_eq!(d.get(Pos::new(1, 3)), 5);
        assert_eq!(d.get(Pos::new(1, 1)), u32::MAX);
        assert_eq!(d.get(Pos::new(0, 0)), 1);
    }

    #[test]
    fn permutation_moves_only_the_given_symbols() {
        let t = ValueTable::from_pairs(&[(b'#', 0.0), (b'A', 2.0), (b'G', 4.0), (b'P', 3.0)]);
        let mut rng = Rng::seed_from_u64(9);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let p = permute_values(&mut rng, &t, b"AGP");
            assert_eq!(p.value(b'#'), 0.0);
            let mut vals = [p.value(b'A'), p.value(b'G'), p.value(b'P')];
            vals.sort_by(f32::total_cmp);
            assert_eq!(vals, [2.0, 3.0, 4.0]);
            seen.insert((p.value(b'A') as i32, p.value(b'G') as i32));
        }
        assert_eq!(seen.len(), 6, "all 6 permutations appear");
    }
}
