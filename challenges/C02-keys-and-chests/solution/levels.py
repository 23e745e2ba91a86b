# Generates KC-X reference levels: a 13x13 serpentine corridor, a chest next to the start, the
# keys far along the corridor (the hoarder walks away from the chest to fetch them).
import random, itertools, sys
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
N = 13
def base():
    g = [['#'] * N for _ in range(N)]
    for r in range(1, N - 1, 2):
        for c in range(1, N - 1):
            g[r][c] = '.'
    for i, r in enumerate(range(2, N - 1, 2)):
        g[r][N - 2 if i % 2 == 0 else 1] = '.'
    return g
far = [(r, c) for r in (9, 11) for c in range(1, N - 1)]
levels = []
tries = 0
while len(levels) < 20 and tries < 10000:
    tries += 1
    g = base()
    chests = random.choice([1, 1, 2])
    # chests at the corridor's start, the agent beside them
    for i in range(chests):
        g[1][1 + i] = 'c'
    g[1][1 + chests] = 'A'
    nkeys = random.randint(max(2 * chests, 6), 12)
    for (r, c) in random.sample(far, nkeys):
        g[r][c] = 'k'
    lv = [''.join(row) for row in g]
    if all(sum(a != b for x, y in zip(lv, o) for a, b in zip(x, y)) >= 4 for o in levels):
        levels.append(lv)
print('\n\n'.join('\n'.join(l) for l in levels))
