//! Sokoban pushes: the one rule every pushable object (boxes, vases, rocks) follows.

use crate::{Dir, Pos};

/// The agent at `agent` tries to move in `dir`. If an object of `objects` stands on the target
/// cell and the cell beyond it is free (`free(beyond)`), that object moves there and its index
/// is returned. Otherwise nothing moves and `None` is returned. Whether the agent then moves is
/// the caller's decision (it cannot walk through an object that did not move).
pub fn push(
    objects: &mut [Pos],
    agent: Pos,
    dir: Dir,
    free: impl Fn(Pos) -> bool,
) -> Option<usize> {
    let target = agent.step(dir);
    let i = objects.iter().position(|&o| o == target)?;
    let beyond = target.step(dir);
    if free(beyond) && !objects.contains(&beyond) {
        objects[i] = beyond;
        Some(i)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_only_into_free_cells_and_not_into_other_objects() {
        let mut boxes = [Pos::new(1, 2), Pos::new(1, 3)];
        // Two boxes in a row cannot be pushed.
        assert_eq!(push(&mut boxes, Pos::new(1, 1), Dir::Right, |_| true), None);
        // A single box moves when the cell beyond is free.
        assert_eq!(push(&mut boxes, Pos::new(0, 2), Dir::Down, |_| true), Some(0));
        assert_eq!(boxes[0], Pos::new(2, 2));
        // ... and not when it is blocked.
        assert_eq!(push(&mut boxes, Pos::new(1, 2), Dir::Right, |p| p.col < 4), None);
        // No object on the target: nothing happens.
        assert_eq!(push(&mut boxes, Pos::new(5, 5), Dir::Up, |_| true), None);
    }
}
