# Naive KC-X baseline: 20 levels drawn like the announced test distribution at size 13
# (a Kruskal maze, chests uniform 1-3, twice as many keys, everything on random open cells).
import random
random.seed(2)
N = 13; n = (N - 1) // 2
levels = []
while len(levels) < 20:
    g = [['#'] * N for _ in range(N)]
    for i in range(n):
        for j in range(n):
            g[2 * i + 1][2 * j + 1] = '.'
    walls = [((i, j), (i, j + 1)) for i in range(n) for j in range(n - 1)] + \
            [((i, j), (i + 1, j)) for i in range(n - 1) for j in range(n)]
    random.shuffle(walls)
    parent = {(i, j): (i, j) for i in range(n) for j in range(n)}
    def root(x):
        while parent[x] != x:
            x = parent[x]
        return x
    for a, b in walls:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
            g[a[0] + b[0] + 1][a[1] + b[1] + 1] = '.'
    open_ = [(r, c) for r in range(N) for c in range(N) if g[r][c] == '.']
    random.shuffle(open_)
    chests = random.randint(1, 3)
    keys = 2 * chests
    (ar, ac) = open_[0]
    g[ar][ac] = 'A'
    for r, c in open_[1:1 + keys]:
        g[r][c] = 'k'
    for r, c in open_[1 + keys:1 + keys + chests]:
        g[r][c] = 'c'
    lv = [''.join(row) for row in g]
    if all(sum(x != y for a, b in zip(lv, o) for x, y in zip(a, b)) >= 4 for o in levels):
        levels.append(lv)
print('\n\n'.join('\n'.join(l) for l in levels))
