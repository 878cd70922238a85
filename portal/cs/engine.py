"""Customer-service numbers, pure numpy: who handled each conversation (attribution)
and how well (metrics). Arrays and plain values in, arrays out; no database, no
request, no clock. A Python loop over conversations, intervals or people here is a
bug (loops over the four evidence levels or two station kinds are fine).

Conventions: instants are int64 UTC epoch seconds; `*_local` values are wall-clock
seconds in the store's time zone (UTC epoch + that instant's UTC offset). People,
accounts and sub-accounts are indices 0..P-1, 0..A-1, 0..S-1 (the services map
database ids to them); -1 means "none". Intervals are half-open [start, end).

Attribution (DESIGN.md "Shared-account attribution")
----------------------------------------------------
A conversation is judged at the instant of the first customer message. The
evidence levels, strongest first:

1. **Bound** — the conversation names a sub-account that was bound to a person at
   that instant (or, failing that, its account is a personal account bound to a
   person at that instant).
2. **Login** — someone was logged in to the same account on the marketplace at that
   instant, in a login session matched to them (by a registered IP address, a
   registered workstation, or a clock-in close to the login; see
   `match_login_sessions`). When both the conversation and the login session name a
   sub-account, they must name the same one.
3. **Clocked in and rostered** — the person was rostered on the account at that
   instant and clocked in (between a clock-in and its clock-out).
4. **Rostered** — the person was rostered on the account at that instant.

Only the strongest level that finds anyone counts. Each person counts once per
conversation (with two qualifying intervals, the one lasting longest is the
evidence kept). When several people qualify, the conversation is split by the
account's rule: **equal** shares; by **presence** — each share in proportion to how
much of the conversation (first customer message to end) the person's evidence
interval covers; by **capacity** — in proportion to the person's capacity (their
post's share). When every weight is zero the split falls back to equal. Shares of
one conversation add up to 1. A conversation no evidence covers is unattributed:
it is given to nobody.

Confidence: a sole candidate gets the level's base confidence (`LEVEL_CONFIDENCE`:
bound 1.0, login 0.9, clocked in and rostered 0.7, rostered 0.4); a split among k
people gets base × (1 + 1/k) / 2 — halfway between the base and base / k.

Metrics (DESIGN.md "CS metrics")
--------------------------------
Every figure is kept per person, account and local day as a sum weighted by the
person's share of each conversation, so teams, accounts, stores and companies add
up by adding rows; averages and rates are formed when shown (`rates`).

- **Workload**: the sum of a person's shares of conversations (a conversation split
  between two people counts 0.5 for each).
- **First response time**: from the customer's first message to the first agent
  reply, counting only time inside the account's daily service hours (a message at
  23:50 answered at 09:05 the next day, with service hours 09:00–24:00, counts 15
  minutes). The average is over answered conversations only.
- **Unanswered**: conversations with no agent reply. They count as unanswered, never
  as a zero first response time.
- **Response time**: where the marketplace exports messages, the average gap from a
  customer message to the next agent reply, within a conversation; averaged over
  conversations that have message data.
- **Handling time**: from the first agent reply to the end of the conversation (wall
  clock), averaged over answered conversations.
- **Resolution rate**: resolved conversations ÷ conversations whose resolution is
  known. **Reopen rate**: reopened conversations ÷ resolved ones.
- **Satisfaction**: positive ratings (4 or 5 of 5) ÷ ratings. The **shrunk**
  satisfaction pulls a score based on few ratings toward the team's rate:
  (positive + m × team rate) ÷ (ratings + m), with m = 20, so three ratings do not
  outweigh three hundred.
- **Online time**: the time a person was logged in on the account that day, from
  their matched login sessions; overlapping sessions count once.
- **Concurrency** (peak): the most of the person's credited conversations on the
  account that were open at the same moment that day (a conversation is open from
  the first customer message until its end).
"""
from dataclasses import dataclass

import numpy as np

LEVEL_BOUND, LEVEL_LOGIN, LEVEL_CLOCKED_ROSTERED, LEVEL_ROSTERED = 1, 2, 3, 4  # as in cs/models.py
SPLIT_EQUAL, SPLIT_PRESENCE, SPLIT_CAPACITY = 0, 1, 2
LEVEL_CONFIDENCE = {1: 1.0, 2: 0.9, 3: 0.7, 4: 0.4}
# Attribution.evidence_kind: which array `evidence` indexes.
EVIDENCE_SUB_BINDING, EVIDENCE_ACCOUNT_BINDING, EVIDENCE_LOGIN, EVIDENCE_CLOCKED_ROSTERED, EVIDENCE_ROSTERED = \
    1, 2, 3, 4, 5
# match_login_sessions: station kinds and how a login was matched.
STATION_IP, STATION_WORKSTATION = 1, 2
MATCH_NONE, MATCH_IP, MATCH_WORKSTATION, MATCH_CLOCK_IN = 0, 1, 2, 3
# Intervals are cut into pieces of at most this length so that a long one (an
# open-ended binding, a session whose logout was lost) does not make every lookup
# after it scan far back.
PIECE_SECONDS = 86400
DAY = 86400

_CONFIDENCE = np.array([0.0, 1.0, 0.9, 0.7, 0.4])
PRESENCE_BIT = 8  # in attribute's packed segments, above the level's three bits
_I64 = np.int64


def _arr(values, dtype=np.int64):
    return np.asarray(values, dtype=dtype).reshape(-1)


# --- interval lookup ------------------------------------------------------------------------------

class _Intervals:
    """Half-open intervals [start, end) with an integer key, ready for "which
    intervals of key k cover instant t" for many (k, t) at once.

    Intervals are clipped to the query window [origin, origin + span), cut into
    pieces of at most PIECE_SECONDS and sorted by (key, start) as one int64. For
    each sorted position j, `depth[j]` is how far back (j included) an interval
    covering an instant just after start[j] can sit: interval i covers such an
    instant only if every interval between i and j starts inside i, so with
    reach[i] = how many later intervals of the key start before i ends, the first
    candidate is the smallest i with i + reach[i] >= j (a search in the running
    maximum of i + reach[i]). A lookup is then one searchsorted and an exact,
    vectorised expansion of those few positions."""

    def __init__(self, key, start, end, origin, span):
        key, start, end = _arr(key), _arr(start), _arr(end)
        start = np.maximum(start, origin)
        end = np.minimum(end, origin + span)
        rows = np.flatnonzero(end > start)
        start, end, key = start[rows], end[rows], key[rows]
        pieces = (end - start + (PIECE_SECONDS - 1)) // PIECE_SECONDS
        if pieces.size and pieces.max() > 1:
            which = np.repeat(np.arange(rows.size), pieces)
            offset = np.arange(which.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
            piece_start = start[which] + offset * PIECE_SECONDS
            piece_end = np.minimum(piece_start + PIECE_SECONDS, end[which])
            rows, key, start, end = rows[which], key[which], piece_start, piece_end
        self.origin, self.span = origin, span
        sort_key = key * span + (start - origin)
        order = np.argsort(sort_key, kind="stable")
        self.sort_key = sort_key[order]
        self.row = rows[order]            # index into the arrays given
        self.start = start[order]
        self.end = end[order]
        count = order.size
        if count:
            reach_to = np.searchsorted(self.sort_key, key[order] * span + (end[order] - origin), "left") - 1
            running = np.maximum.accumulate(np.maximum(reach_to, np.arange(count)))
            self.depth = np.arange(count) - np.searchsorted(running, np.arange(count), "left") + 1
        else:
            self.depth = np.zeros(0, np.int64)

    def __len__(self):
        return self.row.size

    def covering(self, qkey, t):
        """Pairs (query index, sorted interval position) of every interval of key
        qkey[i] covering t[i]; ordered by query index. `t` must lie in the window."""
        if not len(self) or not qkey.size:
            empty = np.zeros(0, np.int64)
            return empty, empty
        base = qkey * self.span
        last = np.searchsorted(self.sort_key, base + (t - self.origin), "right") - 1
        safe = np.maximum(last, 0)
        depth = np.where((last >= 0) & (self.sort_key[safe] >= base), self.depth[safe], 0)
        return self._expand(depth, last, t)

    def overlapping(self, qkey, a, b):
        """Pairs (query index, sorted position) of every interval of key qkey[i]
        overlapping [a[i], b[i]) (a and b within the window)."""
        if not len(self) or not qkey.size:
            empty = np.zeros(0, np.int64)
            return empty, empty
        base = qkey * self.span
        last_b = np.searchsorted(self.sort_key, base + (b - self.origin), "left") - 1   # starts before b
        last_a = np.searchsorted(self.sort_key, base + (a - self.origin), "right") - 1  # starts at or before a
        safe_a = np.maximum(last_a, 0)
        first = np.where((last_a >= 0) & (self.sort_key[safe_a] >= base), last_a - self.depth[safe_a] + 1,
                         last_a + 1)
        safe_b = np.maximum(last_b, 0)
        depth = np.where((last_b >= 0) & (self.sort_key[safe_b] >= base), np.maximum(last_b - first + 1, 0), 0)
        return self._expand(depth, last_b, a)

    def _expand(self, depth, last, t):
        total = int(depth.sum())
        if not total:
            empty = np.zeros(0, np.int64)
            return empty, empty
        query = np.repeat(np.arange(depth.size), depth)
        block_start = np.cumsum(depth) - depth
        position = np.repeat(last + block_start, depth) - np.arange(total)
        hit = self.end[position] > np.repeat(t, depth)
        return query[hit], position[hit]


def _overlap_groups(key, person, start, end):
    """Per interval: True where some other interval of the same (key, person)
    overlaps one of that pair's intervals (so a conversation could find the person
    twice through them)."""
    count = key.size
    flags = np.zeros(count, bool)
    if count < 2:
        return flags
    group = key * (int(person.max()) + 2) + (person + 1)
    order = np.lexsort((start, group))
    g, s, e = group[order], start[order], end[order]
    rank = np.concatenate(([0], np.cumsum(g[1:] != g[:-1])))
    low = s.min()
    width = int(e.max() - low) + 1
    running = np.maximum.accumulate(rank * width + (e - low))
    overlap = np.zeros(count, bool)
    overlap[1:] = (rank[1:] == rank[:-1]) & (s[1:] - low < running[:-1] - rank[1:] * width)
    bad = np.zeros(int(rank[-1]) + 1, bool)
    bad[rank[overlap]] = True
    flags[order] = bad[rank]
    return flags


# --- attribution -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttributionInput:
    """What the attribution of a period needs; see the module docstring for the
    rules. Roster entries come expanded to the accounts their shift type staffs;
    presence intervals are paired clock-ins and clock-outs; login sessions carry the
    person `match_login_sessions` found (-1: unmatched, never used as evidence)."""

    conv_account: np.ndarray
    conv_sub_account: np.ndarray
    conv_start: np.ndarray
    conv_end: np.ndarray
    account_split_rule: np.ndarray
    person_capacity: np.ndarray
    sub_binding_sub: np.ndarray
    sub_binding_person: np.ndarray
    sub_binding_start: np.ndarray
    sub_binding_end: np.ndarray
    account_binding_account: np.ndarray
    account_binding_person: np.ndarray
    account_binding_start: np.ndarray
    account_binding_end: np.ndarray
    login_account: np.ndarray
    login_sub_account: np.ndarray
    login_start: np.ndarray
    login_end: np.ndarray
    login_person: np.ndarray
    presence_person: np.ndarray
    presence_start: np.ndarray
    presence_end: np.ndarray
    roster_person: np.ndarray
    roster_account: np.ndarray
    roster_start: np.ndarray
    roster_end: np.ndarray


@dataclass(frozen=True)
class Attribution:
    """One row per (conversation, person) credit, in no particular order. `evidence` indexes the
    evidence arrays of the input named by `evidence_kind` (sub-account binding,
    account binding, login session, roster entry for kinds 4 and 5). `conv_level`:
    per conversation, the level that decided it, 0 = unattributed."""

    conv: np.ndarray
    person: np.ndarray
    share: np.ndarray
    level: np.ndarray
    confidence: np.ndarray
    evidence: np.ndarray
    evidence_kind: np.ndarray
    conv_level: np.ndarray

    @property
    def unattributed(self):
        """Indices of the conversations nobody was credited with."""
        return np.flatnonzero(self.conv_level == 0)


def _empty_attribution(n):
    return Attribution(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int8),
                       np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(n, np.int8))


class _Evidence:
    """One evidence kind as an interval set: per interval the key it is looked up
    by, the person, the row of the input it came from and the instant its
    presence weight ends (for level 3, the end of roster ∩ clocked-in time)."""

    def __init__(self, kind, level, key, person, start, end, weight_end, row, origin, span):
        self.kind, self.level = kind, level
        self.person, self.weight_end, self.row = person, weight_end, row
        self.index = _Intervals(key, start, end, origin, span)
        self.dup = _overlap_groups(key, person, start, end)[self.index.row]  # per sorted piece
        self.keys = set()

    def lookup(self, qkey, t):
        """(query index, local interval index) of covering intervals."""
        query, position = self.index.covering(qkey, t)
        return query, self.index.row[position], self.dup[position]


def _dedupe(query, local, dup, person, weight_end, row):
    """Keep one interval per (query, person): the one whose weight lasts longest,
    then the lowest input row. Only intervals flagged `dup` can repeat a person."""
    keep = np.ones(query.size, bool)
    suspects = np.flatnonzero(dup)
    if suspects.size:
        q, p = query[suspects], person[local[suspects]]
        order = np.lexsort((row[local[suspects]], -weight_end[local[suspects]], p, q))
        qs, ps = q[order], p[order]
        repeat = np.zeros(order.size, bool)
        repeat[1:] = (qs[1:] == qs[:-1]) & (ps[1:] == ps[:-1])
        keep[suspects[order[repeat]]] = False
    return keep


def _evidence_sets(data, origin, span):
    """The five evidence kinds as interval sets (strongest first) for lookups at
    instants in [origin, origin + span), and the sub-accounts of the matched logins."""
    def ev(kind, level, key, person, ev_start, ev_end, weight_end=None, row=None):
        key, person, ev_start, ev_end = _arr(key), _arr(person), _arr(ev_start), _arr(ev_end)
        weight_end = ev_end if weight_end is None else _arr(weight_end)
        row = np.arange(key.size) if row is None else _arr(row)
        return _Evidence(kind, level, key, person, ev_start, ev_end, weight_end, row, origin, span)

    # Level 3 intervals: roster entry ∩ clocked-in interval of the same person.
    r_person, r_acct = _arr(data.roster_person), _arr(data.roster_account)
    r_start, r_end = _arr(data.roster_start), _arr(data.roster_end)
    p_person, p_start, p_end = _arr(data.presence_person), _arr(data.presence_start), _arr(data.presence_end)
    wide_origin = int(min(origin, r_start.min() if r_start.size else origin))
    wide_span = int(max(origin + span, r_end.max() if r_end.size else 0)) - wide_origin + 1
    presence = _Intervals(p_person, p_start, p_end, wide_origin, wide_span)
    clipped_start = np.clip(r_start, wide_origin, wide_origin + wide_span - 1)
    clipped_end = np.clip(r_end, wide_origin, wide_origin + wide_span - 1)
    roster_i, pres_pos = presence.overlapping(r_person, clipped_start, np.maximum(clipped_end, clipped_start))
    pres_row = presence.row[pres_pos]
    both_start = np.maximum(r_start[roster_i], presence.start[pres_pos])
    both_end = np.minimum(r_end[roster_i], presence.end[pres_pos])
    both_weight = np.minimum(r_end[roster_i], p_end[pres_row])

    login_person = _arr(data.login_person)
    matched = np.flatnonzero(login_person >= 0)
    levels = [
        ev(EVIDENCE_SUB_BINDING, LEVEL_BOUND, data.sub_binding_sub, data.sub_binding_person,
           data.sub_binding_start, data.sub_binding_end),
        ev(EVIDENCE_ACCOUNT_BINDING, LEVEL_BOUND, data.account_binding_account, data.account_binding_person,
           data.account_binding_start, data.account_binding_end),
        ev(EVIDENCE_LOGIN, LEVEL_LOGIN, _arr(data.login_account)[matched], login_person[matched],
           _arr(data.login_start)[matched], _arr(data.login_end)[matched], row=matched),
        ev(EVIDENCE_CLOCKED_ROSTERED, LEVEL_CLOCKED_ROSTERED, r_acct[roster_i], r_person[roster_i], both_start,
           both_end, weight_end=both_weight, row=roster_i),
        ev(EVIDENCE_ROSTERED, LEVEL_ROSTERED, r_acct, r_person, r_start, r_end),
    ]

    return levels, _arr(data.login_sub_account)[matched]


def _credit_points(levels, login_sub, s_acct, s_sub, s_start):
    """Candidates at points (account, sub-account, instant), each point decided by
    its strongest level; the points should come sorted by (account, instant), which
    makes every searchsorted fast. Returns (point, person, input row, weight end,
    level, evidence kind) sorted by point."""
    n = s_acct.size
    acct = s_acct
    undecided = np.ones(n, bool)
    blocks = []
    for evidence in levels:  # five evidence kinds, strongest first
        if not len(evidence.index):
            continue
        if evidence.kind == EVIDENCE_SUB_BINDING:
            candidates = np.flatnonzero(undecided & (s_sub >= 0))
            qkey = s_sub[candidates]
        else:
            span = evidence.index.span
            has_key = np.zeros(int(max(acct.max(), evidence.index.sort_key[-1] // span)) + 1, bool)
            has_key[evidence.index.sort_key // span] = True
            candidates = np.flatnonzero(undecided & has_key[s_acct])
            qkey = s_acct[candidates]
        if not candidates.size:
            continue
        query, local, dup = evidence.lookup(qkey, s_start[candidates])
        if evidence.kind == EVIDENCE_LOGIN:
            conv_sub, session_sub = s_sub[candidates[query]], login_sub[local]
            fits = (conv_sub < 0) | (session_sub < 0) | (conv_sub == session_sub)
            query, local, dup = query[fits], local[fits], dup[fits]
        if not query.size:
            continue
        keep = _dedupe(query, local, dup, evidence.person, evidence.weight_end, evidence.row)
        if not keep.all():
            query, local = query[keep], local[keep]
        position = candidates[query]
        undecided[position] = False
        blocks.append((position, evidence.person[local], evidence.row[local], evidence.weight_end[local],
                       evidence.level, evidence.kind))

    if not blocks:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, empty, np.zeros(0, np.int8), np.zeros(0, np.int8)
    position = np.concatenate([b[0] for b in blocks])
    order = np.argsort(position, kind="stable")
    return (position[order], np.concatenate([b[1] for b in blocks])[order],
            np.concatenate([b[2] for b in blocks])[order], np.concatenate([b[3] for b in blocks])[order],
            np.concatenate([np.full(b[0].size, b[4], np.int8) for b in blocks])[order],
            np.concatenate([np.full(b[0].size, b[5], np.int8) for b in blocks])[order])


def _expand_ranges(key_sorted, span, wanted):
    """For each wanted key: the offsets (value % span) of key_sorted's entries with
    that key; returns (which wanted item, offset)."""
    low = np.searchsorted(key_sorted, wanted * span, "left")
    high = np.searchsorted(key_sorted, (wanted + 1) * span, "left")
    width = np.where(wanted >= 0, high - low, 0)
    total = int(width.sum())
    which = np.repeat(np.arange(wanted.size), width)
    index = np.repeat(low - (np.cumsum(width) - width), width) + np.arange(total)
    return which, key_sorted[index] - wanted[which] * span


def attribute(data: AttributionInput) -> Attribution:
    """Credit each conversation to people, by the rules in the module docstring.

    How: a conversation is looked up by its channel (account and sub-account) and
    start. On each channel the set of candidates only changes where some evidence
    interval starts or ends, so the timeline is cut at those instants into
    segments, the candidates of every segment are found once (at its start), and
    each conversation takes its segment's candidates, found through a table of
    fixed-width time buckets (a binary search only for the few conversations in a
    bucket where a segment boundary falls). The presence split, which depends on
    the conversation's end, is the only per-conversation arithmetic."""
    acct = np.asarray(data.conv_account).reshape(-1)
    n = acct.size
    if n == 0:
        return _empty_attribution(0)
    sub = np.asarray(data.conv_sub_account).reshape(-1)
    start = _arr(data.conv_start)
    conv_end = _arr(data.conv_end)

    def end_of(rows):  # (an end before the start counts as the start)
        return np.maximum(conv_end.take(rows), start.take(rows))

    origin = int(start.min())
    span = int(start.max()) - origin + 2
    levels, login_sub = _evidence_sets(data, origin, span)

    # channels: the (account, sub-account) pairs the conversations name
    subs = max(int(sub.max()) + 2, 1)
    pair = acct.astype(np.int64) * subs
    pair += sub
    pair += 1
    dense = int(pair.max()) + 1
    chan = None
    if dense <= 4_000_000:
        used = np.zeros(dense, bool)
        used[pair] = True
        pairs = np.flatnonzero(used)
        chan_of_pair = np.cumsum(used) - 1
    else:
        pairs, chan = np.unique(pair, return_inverse=True)
    channels = pairs.size
    chan_acct, chan_sub = pairs // subs, pairs % subs - 1

    # segment boundaries per channel: its account's interval ends, its sub-account's
    acct_keys, sub_keys = [], []
    for evidence in levels:
        index = evidence.index
        if not len(index):
            continue
        key = index.sort_key // span
        for edge in (index.start, index.end):
            offset = edge - origin
            inside = offset < span
            (sub_keys if evidence.kind == EVIDENCE_SUB_BINDING else acct_keys).append(
                key[inside] * span + offset[inside])
    shift = max(8, int(np.ceil(np.log2(max(channels * span / 2 ** 21, 1)))))
    bucket = 1 << shift
    stride = ((span + bucket - 1) >> shift) << shift
    parts = [np.arange(channels, dtype=np.int64) * stride]
    for keys, wanted in ((acct_keys, chan_acct), (sub_keys, chan_sub)):
        if keys:
            which, offset = _expand_ranges(np.unique(np.concatenate(keys)), span, wanted)
            parts.append(which * stride + offset)
    bounds = np.unique(np.concatenate(parts))
    segments = bounds.size
    p_chan = bounds // stride
    point, c_person, c_row, c_weight_end, c_level, c_kind = _credit_points(
        levels, login_sub, chan_acct[p_chan], chan_sub[p_chan], origin + bounds % stride)
    if not point.size:
        return _empty_attribution(n)
    seg_k = np.bincount(point, minlength=segments)
    seg_lo = np.cumsum(seg_k) - seg_k
    seg_level = np.zeros(segments, np.int8)
    seg_level[point] = c_level
    k = seg_k[point]
    c_share = 1.0 / k
    c_confidence = _CONFIDENCE[c_level] * (1.0 + 1.0 / k) / 2.0
    rules = _arr(data.account_split_rule, np.int64)
    c_rule = rules[chan_acct[p_chan[point]]] if rules.size else np.zeros(point.size, np.int64)
    capacity_rows = np.flatnonzero(c_rule == SPLIT_CAPACITY)
    if capacity_rows.size:
        weight = np.maximum(_arr(data.person_capacity, np.float64)[c_person[capacity_rows]], 0.0)
        total = np.bincount(point[capacity_rows], weights=weight, minlength=segments)[point[capacity_rows]]
        c_share[capacity_rows] = np.where(total > 0, weight / np.where(total > 0, total, 1), c_share[capacity_rows])
    c_presence = (c_rule == SPLIT_PRESENCE) & (k > 1)   # a sole candidate's share is 1 whatever the weights
    c_person = c_person.astype(np.int32)

    # buckets: what the segment holding each bucket's first second holds, packed in one
    # integer (first candidate, candidate count, split by presence?, level); -1 where a
    # boundary falls inside
    count_bits = max(int(seg_k.max()).bit_length(), 1)
    low_shift, count_mask = count_bits + 4, (1 << count_bits) - 1
    seg_presence = np.zeros(segments, np.int64)
    seg_presence[point[c_presence]] = PRESENCE_BIT
    packed_seg = (seg_lo << low_shift) | (seg_k << 4) | seg_presence | seg_level
    if int(packed_seg.max()) < 2 ** 31:
        packed_seg = packed_seg.astype(np.int32)   # half the table to pull through the cache
    buckets = channels * (stride >> shift)
    bucket_of = bounds >> shift
    inner = (bounds & (bucket - 1)) != 0
    table = packed_seg[np.cumsum(np.bincount(bucket_of, minlength=buckets)) - 1]
    table[np.bincount(bucket_of[inner], minlength=buckets) > 0] = -1

    # conversations → segments → candidates
    # q: the conversation's channel and start as one offset on the channels' timelines
    q = (chan_of_pair * stride - origin).take(pair) if chan is None else chan * stride - origin
    q += start
    packed = table.take(q >> shift)
    dirty = np.flatnonzero(packed < 0)
    if dirty.size:
        packed[dirty] = packed_seg[np.searchsorted(bounds, q[dirty], "right") - 1]
    conv_level = (packed & 7).astype(np.int8)
    selected = np.flatnonzero(conv_level)           # a level only where the segment has candidates
    picked = packed.take(selected)
    low, left = picked >> low_shift, (picked >> 4) & count_mask
    by_presence = np.flatnonzero(picked & PRESENCE_BIT) if c_presence.any() else None
    conv_parts, cand_parts = [], []
    slot = 0
    while selected.size:  # one pass per candidate slot (as many as the most people sharing a conversation)
        conv_parts.append(selected)
        cand_parts.append(low + slot)
        slot += 1
        more = np.flatnonzero(left > slot)
        if more.size < selected.size:
            selected, low, left = selected.take(more), low.take(more), left.take(more)
    conv = np.concatenate(conv_parts) if conv_parts else np.zeros(0, np.int64)
    cand = np.concatenate(cand_parts, dtype=np.int64) if cand_parts else np.zeros(0, np.int64)
    share = c_share.take(cand)
    if by_presence is not None and by_presence.size:
        # By presence, a conversation ending before every candidate's evidence interval ends
        # gives each the same weight (its whole length): the equal share it already has. Only
        # those outlasting some candidate's interval are weighed, row by row.
        has = seg_k > 0
        earliest = np.repeat(np.minimum.reduceat(c_weight_end, seg_lo[has]), seg_k[has])  # per candidate
        first = conv_parts[0].take(by_presence)
        weighed = first[end_of(first) > earliest.take(cand_parts[0].take(by_presence))]
        if weighed.size:
            # their rows: in each slot's part, where the (sorted) conversation indices hold them
            rows, offset = [], 0
            for part in conv_parts:
                found = np.minimum(np.searchsorted(part, weighed), part.size - 1)
                rows.append(offset + found[part[found] == weighed])
                offset += part.size
            rows = np.sort(np.concatenate(rows))
            at = conv[rows]
            weight = (np.minimum(c_weight_end[cand[rows]], end_of(at)) - start[at]).astype(np.float64)
            local = np.searchsorted(weighed, at)
            total = np.bincount(local, weights=weight, minlength=weighed.size)[local]
            share[rows] = np.where(total > 0, weight / np.where(total > 0, total, 1), share[rows])
    return Attribution(conv, c_person.take(cand), share, c_level.take(cand), c_confidence.take(cand),
                       c_row.take(cand), c_kind.take(cand), conv_level)


# --- login sessions → people ---------------------------------------------------------------------------

def _stations_match(login_code, login_start, todo, station_person, station_code, station_start, station_end):
    """For logins `todo`: the one person a registered station with the login's code
    belongs to at the login instant, -1 when none or several."""
    result = np.full(todo.size, -1, np.int64)
    if not todo.size or not station_code.size:
        return result
    codes = np.unique(station_code)
    q_code = login_code[todo]
    slot = np.clip(np.searchsorted(codes, q_code), 0, codes.size - 1)
    known = codes[slot] == q_code
    ask = np.flatnonzero(known)
    t = login_start[todo[ask]]
    origin = int(t.min()) if t.size else 0
    span = (int(t.max()) - origin + 2) if t.size else 2
    index = _Intervals(np.searchsorted(codes, station_code), station_start, station_end, origin, span)
    query, position = index.covering(slot[ask], t)
    if not query.size:
        return result
    owner = station_person[index.row[position]]
    starts = np.flatnonzero(np.concatenate(([True], query[1:] != query[:-1])))
    low = np.minimum.reduceat(owner, starts)
    high = np.maximum.reduceat(owner, starts)
    unique = low == high
    result[ask[query[starts[unique]]]] = low[unique]
    return result


def match_login_sessions(login_start, login_address, login_workstation,
                         station_person, station_kind, station_code, station_start, station_end,
                         clock_person, clock_in_at,
                         login_account, roster_person, roster_account, roster_start, roster_end,
                         tolerance_seconds=900):
    """Who stood behind each platform login session, tried in this order:

    1. a registered IP address (`station_kind` STATION_IP) equal to the login's
       address and valid at the login instant (`station_start` ≤ t < `station_end`);
    2. a registered workstation (STATION_WORKSTATION) named like the login's;
    3. the clock-in nearest to the login, within `tolerance_seconds` either side, of
       someone rostered on the login's account around that instant (a roster entry
       widened by the tolerance on both sides covers the login).

    An address or workstation registered to more than one person at that instant
    does not match by itself, and neither does a clock-in tie between two people.
    Codes are int64 (the services number distinct strings), -1 = none.
    Returns (person int32[l], how int8[l]); how is MATCH_* (0: unmatched, person -1).
    """
    login_start = _arr(login_start)
    count = login_start.size
    person = np.full(count, -1, np.int64)
    how = np.zeros(count, np.int8)
    if not count:
        return person.astype(np.int32), how
    station_person, station_kind = _arr(station_person), _arr(station_kind)
    station_code, station_start, station_end = _arr(station_code), _arr(station_start), _arr(station_end)
    for kind, codes, label in ((STATION_IP, _arr(login_address), MATCH_IP),
                               (STATION_WORKSTATION, _arr(login_workstation), MATCH_WORKSTATION)):
        todo = np.flatnonzero((person < 0) & (codes >= 0))
        mine = np.flatnonzero((station_kind == kind) & (station_code >= 0))
        found = _stations_match(codes, login_start, todo, station_person[mine], station_code[mine],
                                station_start[mine], station_end[mine])
        hit = found >= 0
        person[todo[hit]] = found[hit]
        how[todo[hit]] = label

    clock_person, clock_in_at = _arr(clock_person), _arr(clock_in_at)
    todo = np.flatnonzero(person < 0)
    if todo.size and clock_in_at.size:
        tolerance = int(tolerance_seconds)
        by_time = np.argsort(clock_in_at, kind="stable")
        at, who = clock_in_at[by_time], clock_person[by_time]
        t = login_start[todo]
        low = np.searchsorted(at, t - tolerance, "left")
        high = np.searchsorted(at, t + tolerance, "right")
        width = high - low
        total = int(width.sum())
        if total:
            query = np.repeat(np.arange(todo.size), width)
            punch = np.repeat(low - (np.cumsum(width) - width), width) + np.arange(total)
            candidate = who[punch]
            # rostered on the login's account around the login instant?
            accounts = int(max(_arr(login_account).max(initial=0), _arr(roster_account).max(initial=0))) + 1
            r_key = _arr(roster_person) * accounts + _arr(roster_account)
            q_time = t[query]
            origin = int(q_time.min())
            span = int(q_time.max()) - origin + 2
            roster = _Intervals(r_key, _arr(roster_start) - tolerance, _arr(roster_end) + tolerance, origin, span)
            asked = np.flatnonzero(candidate >= 0)
            q_key = candidate[asked] * accounts + _arr(login_account)[todo[query[asked]]]
            covered_query, _ = roster.covering(q_key, q_time[asked])
            ok = np.zeros(total, bool)
            ok[asked[covered_query]] = True
            query, candidate, distance = query[ok], candidate[ok], np.abs(at[punch[ok]] - t[query[ok]])
            if query.size:
                # per login: the smallest distance, then whether one person holds it
                big = int(distance.max()) + 1
                key = query * big + distance
                best = np.minimum.reduceat(key, np.flatnonzero(np.concatenate(([True], query[1:] != query[:-1]))))
                nearest = np.zeros(todo.size, np.int64) - 1
                nearest[best // big] = best % big
                at_best = distance == nearest[query]
                q2, c2 = query[at_best], candidate[at_best]
                starts = np.flatnonzero(np.concatenate(([True], q2[1:] != q2[:-1])))
                lo_c, hi_c = np.minimum.reduceat(c2, starts), np.maximum.reduceat(c2, starts)
                unique = lo_c == hi_c
                chosen = todo[q2[starts[unique]]]
                person[chosen] = lo_c[unique]
                how[chosen] = MATCH_CLOCK_IN
    return person.astype(np.int32), how


# --- metrics -----------------------------------------------------------------------------------------

def service_seconds_between(a_local, b_local, open_second, close_second):
    """Seconds of [a, b) (local wall-clock seconds) that fall inside the daily
    service window [open, close) (seconds of the day; close may be 86400). A close
    at or before the open means the window runs past midnight (22:00–06:00);
    open == close means around the clock. b before a counts 0.

    A message at 23:50 answered at 09:05 the next day, window 09:00–24:00 → 900."""
    a, b = np.asarray(a_local, np.int64), np.asarray(b_local, np.int64)
    open_second = np.asarray(open_second, np.int64)
    close_second = np.asarray(close_second, np.int64)
    wraps = close_second <= open_second
    if not wraps.any():
        width = close_second - open_second
        shape = np.broadcast_shapes(a.shape, b.shape, width.shape)

        def served_until(x):  # whole days served + the part of its own day; two arrays, in place
            day = np.floor_divide(x, DAY, out=np.empty(shape, np.int64))
            second = np.multiply(day, DAY, out=np.empty(shape, np.int64))
            np.subtract(x, second, out=second)
            second -= open_second
            np.maximum(second, 0, out=second)
            np.minimum(second, width, out=second)
            day *= width
            day += second
            return day

        served = served_until(b)
        served -= served_until(a)
        return np.maximum(served, 0, out=served)
    else:
        width = np.where(wraps, close_second + DAY - open_second, close_second - open_second)

        def served_until(x):
            day, second = np.divmod(x, DAY)
            straight = np.clip(second - open_second, 0, np.maximum(close_second - open_second, 0))
            wrapped = np.minimum(second, close_second) + np.maximum(second - open_second, 0)
            return day * width + np.where(wraps, wrapped, straight)

    return np.maximum(served_until(b) - served_until(a), 0)


RELATIVE_LIMIT = 2 ** 30  # seconds after a local midnight (34 years): int32 arithmetic stays exact


def _first_response(since, rel_reply, open_second, close_second):
    """service_seconds_between for int32 instants counted from the local midnight of
    the start's day (0 ≤ since < DAY, 0 ≤ rel_reply ≤ RELATIVE_LIMIT): whole days
    shift both ends alike, so the count is the same, in int32 throughout."""
    open_second = np.asarray(open_second).astype(np.int32)
    close_second = np.asarray(close_second).astype(np.int32)
    if (close_second <= open_second).any():  # windows across midnight: the general form
        return service_seconds_between(since, rel_reply, open_second, close_second)
    width = close_second - open_second
    day = rel_reply // DAY
    served = day * DAY
    np.subtract(rel_reply, served, out=served)       # second of its day
    served -= open_second
    np.maximum(served, 0, out=served)
    np.minimum(served, width, out=served)
    day *= width
    served += day
    before = since - open_second                     # what the start's day served before it
    np.maximum(before, 0, out=before)
    np.minimum(before, width, out=before)
    served -= before
    return np.maximum(served, 0, out=served)


@dataclass(frozen=True)
class ConversationFacts:
    """Per conversation (n): local wall-clock seconds of the first customer message,
    the first agent reply (-1: never answered) and the end; the account's service
    window in seconds of the day; the local day number (days since 1970-01-01 in
    local time) of the start; resolved -1 unknown / 0 / 1; reopened; rating 0 none or
    1–5; response_seconds the mean customer→next agent reply gap (NaN: no messages)."""

    start_local: np.ndarray
    first_reply_local: np.ndarray
    end_local: np.ndarray
    service_open: np.ndarray
    service_close: np.ndarray
    day: np.ndarray
    resolved: np.ndarray
    reopened: np.ndarray
    rating: np.ndarray
    response_seconds: np.ndarray


@dataclass(frozen=True)
class DailyMetrics:
    """One row per (person, account, local day) with any credit or online time,
    ordered by person, account, day. Columns as CsDailyMetric: share-weighted sums
    (see the module docstring), `conversations` a count of conversations with any
    share, `online_seconds` and `peak_concurrency` integers."""

    person: np.ndarray
    account: np.ndarray
    day: np.ndarray
    conversations: np.ndarray
    workload: np.ndarray
    answered: np.ndarray
    unanswered: np.ndarray
    first_response_seconds: np.ndarray
    response_seconds: np.ndarray
    response_count: np.ndarray
    handling_seconds: np.ndarray
    resolved: np.ndarray
    resolution_known: np.ndarray
    reopened: np.ndarray
    rated: np.ndarray
    rated_positive: np.ndarray
    online_seconds: np.ndarray
    peak_concurrency: np.ndarray

    def __len__(self):
        return self.person.size


# bit flags of a conversation, summed share-weighted in one bincount
_BITS = ("answered", "resolution_known", "resolved", "reopened", "rated", "rated_positive", "response_count")


def _union_seconds(group, start, end):
    """Per row of the (group, start)-sorted pieces: seconds it adds to the union of
    its group's intervals."""
    if not group.size:
        return np.zeros(0, np.int64)
    low = int(start.min())
    width = int(max(end.max(), start.max()) - low) + 1
    rank = np.concatenate(([0], np.cumsum(group[1:] != group[:-1])))
    running = np.maximum.accumulate(rank * width + (end - low)) - rank * width
    previous = np.full(group.size, -1, np.int64)
    previous[1:] = np.where(rank[1:] == rank[:-1], running[:-1], -1)
    begin = np.maximum(start - low, previous)
    return np.maximum((end - low) - begin, 0)


def _peak_open(group, opened, closed, width, sizes):
    """Per row-group: the most intervals [opened, closed) open at once (instants
    0 ≤ opened < closed < width, e.g. seconds since the group's local midnight;
    `sizes[g]` rows in group g). Every start (+1) and end (−1) becomes one integer
    key (group, instant, end before start on ties: an interval ending as another
    starts does not overlap it); after one sort, the running sum of +1/−1 is the
    number open, and each group's events sit together (2 × its size of them)."""
    bits = int(width - 1).bit_length() + 1
    dtype = np.int32 if (int(group.max()) + 1) << bits < 2 ** 31 else np.int64
    rows = group.size
    events = np.empty(2 * rows, dtype)
    ends, starts = events[:rows], events[rows:]
    np.left_shift(closed, 1, out=ends, casting="unsafe")
    np.left_shift(opened, 1, out=starts, casting="unsafe")
    starts |= 1
    base = np.left_shift(group, bits, dtype=dtype, casting="unsafe")
    ends |= base
    starts |= base
    del base
    events.sort()
    running = np.bitwise_and(events, 1, out=events)   # +1 / −1 in place of the keys
    running <<= 1
    running -= 1
    np.cumsum(running, out=running)
    present = np.flatnonzero(sizes)
    first = 2 * (np.cumsum(sizes[present]) - sizes[present])
    return present, np.maximum.reduceat(running, first)


def daily_metrics(attribution: Attribution, conv_account, facts: ConversationFacts,
                  sessions_person, sessions_account, sessions_start_local, sessions_end_local) -> DailyMetrics:
    """Per (person, account, local day) sums of the metrics in the module docstring.
    Sessions are the login sessions matched to people (local seconds); a session
    crossing midnight counts on each day for its part of it. `conversations`
    counts credit rows."""
    conv = attribution.conv
    person = attribution.person.astype(np.int64)
    share = attribution.share
    account = _arr(conv_account)
    s_person, s_account = _arr(sessions_person), _arr(sessions_account)
    s_start, s_end = _arr(sessions_start_local), _arr(sessions_end_local)
    keep = (s_person >= 0) & (s_end > s_start)
    s_person, s_account, s_start, s_end = s_person[keep], s_account[keep], s_start[keep], s_end[keep]
    # sessions cut at local midnights
    first_day, last_day = s_start // DAY, (s_end - 1) // DAY
    days = last_day - first_day + 1
    which = np.repeat(np.arange(s_start.size), days)
    piece_day = np.repeat(first_day, days) + (np.arange(which.size) - np.repeat(np.cumsum(days) - days, days))
    piece_start = np.maximum(s_start[which], piece_day * DAY)
    piece_end = np.minimum(s_end[which], (piece_day + 1) * DAY)
    piece_person, piece_account = s_person[which], s_account[which]

    conv_day = _arr(facts.day)
    if not conv.size and not piece_day.size:
        zeros = np.zeros(0)
        ints = np.zeros(0, np.int64)
        return DailyMetrics(ints, ints, ints, ints, *([zeros] * 12), ints, ints)
    credited = conv.size > 0

    def extent(credit_values, piece_values):
        parts = ([credit_values.min(), credit_values.max()] if credited else []) + \
            ([piece_values.min(), piece_values.max()] if piece_values.size else [])
        return int(min(parts)), int(max(parts))

    day0, day_last = extent(conv_day, piece_day)
    n_days = day_last - day0 + 1
    n_accounts = extent(account, piece_account)[1] + 1
    n_people = extent(person, piece_person)[1] + 1
    cells = n_accounts * n_days
    dense = n_people * cells
    piece_key = (piece_person * n_accounts + piece_account) * n_days + (piece_day - day0)
    if dense <= 16_000_000:  # keys and groups in int32: half the bytes through every pass
        conv_cell = np.asarray(conv_account).astype(np.int32) * np.int32(n_days)
        conv_cell += np.asarray(facts.day).astype(np.int32) - np.int32(day0)
        row_key = conv_cell.take(conv)
        del conv_cell
        row_key += attribution.person.astype(np.int32) * np.int32(cells)
        counts = np.bincount(row_key, minlength=dense)
        present = counts > 0
        present[piece_key] = True
        keys = np.flatnonzero(present)
        compact = np.cumsum(present) - 1   # intp: what bincount works in, converted once
        row_group, piece_group = compact.take(row_key), compact[piece_key]
        del row_key
        conversations = counts[keys]
    else:
        row_key = person * cells + (account * n_days + (conv_day - day0))[conv]
        keys, inverse = np.unique(np.concatenate((row_key, piece_key)), return_inverse=True)
        row_group, piece_group = inverse[:row_key.size], inverse[row_key.size:]
        conversations = np.bincount(row_group, minlength=keys.size)
    groups = keys.size

    # per conversation, in int32 seconds since the local midnight of its start day (the
    # start lies in that day; replies and ends further on than RELATIVE_LIMIT are cut there)
    start_local, reply_local = _arr(facts.start_local), _arr(facts.first_reply_local)
    answered = reply_local >= 0
    midnight = np.asarray(facts.day).astype(np.int64)
    midnight *= DAY
    scratch = np.subtract(start_local, midnight)
    since = scratch.astype(np.int32)
    np.subtract(reply_local, midnight, out=scratch)
    rel_reply = np.clip(scratch, 0, RELATIVE_LIMIT, out=scratch).astype(np.int32)  # no reply: 0, before the start
    np.subtract(_arr(facts.end_local), midnight, out=scratch)
    del midnight
    rel_end = np.clip(scratch, 0, RELATIVE_LIMIT, out=scratch).astype(np.int32)
    del scratch
    np.maximum(rel_end, since, out=rel_end)          # an end before the start counts as the start
    first_response = _first_response(since, rel_reply, facts.service_open, facts.service_close)
    handling = np.maximum(rel_reply, since)
    np.subtract(rel_end, handling, out=handling)
    np.maximum(handling, 0, out=handling)
    handling *= answered
    response = np.asarray(facts.response_seconds, np.float64)
    has_response = ~np.isnan(response)
    resolved = np.asarray(facts.resolved)
    rating = np.asarray(facts.rating)
    bits = (answered.view(np.uint8) | ((resolved >= 0).view(np.uint8) << 1) | ((resolved == 1).view(np.uint8) << 2)
            | (np.asarray(facts.reopened, bool).view(np.uint8) << 3) | ((rating > 0).view(np.uint8) << 4)
            | ((rating >= 4).view(np.uint8) << 5) | (has_response.view(np.uint8) << 6))
    # two row buffers serve every share-weighted sum: the flag keys first, then values
    row_values, row_weights = np.empty(conv.size, np.int64), np.empty(conv.size)
    flag_key = np.left_shift(row_group, 7, out=row_values)
    flag_key |= bits.take(conv)
    flags = np.bincount(flag_key, weights=share, minlength=groups * 128).reshape(groups, 128)
    # each bit's share sum: halve the 128 patterns bit by bit (highest first), summing
    # those with the bit set; what remains at the end is the workload. (No matrix
    # product: BLAS threads would cost more than these few passes.)
    summed = np.empty((groups, len(_BITS)))
    grid = flags
    for bit in range(len(_BITS) - 1, -1, -1):
        halves = grid.reshape(groups, 2, -1)
        summed[:, bit] = halves[:, 1, :].sum(axis=1)
        grid = halves[:, 0, :] + halves[:, 1, :]
    workload = grid[:, 0]

    def weighted(values):  # Σ share × value per group (add.at: one pass, in row order like bincount)
        if values.dtype == np.float64:
            np.take(values, conv, out=row_weights)
            np.multiply(row_weights, share, out=row_weights)
        else:
            as_int = row_values.view(values.dtype)[:conv.size]
            np.take(values, conv, out=as_int)
            np.multiply(share, as_int, out=row_weights)
        total = np.zeros(groups)
        np.add.at(total, row_group, row_weights)
        return total

    first_response_seconds = weighted(first_response)
    response_seconds = weighted(np.fmax(response, 0.0))   # fmax: NaN (no messages) → 0
    handling_seconds = weighted(handling)
    del row_values, row_weights

    peak = np.zeros(groups, np.int64)
    if conv.size:
        # instants since the local midnight of the start day; an end after the day's
        # end changes nothing about who is open at that day's starts
        until = np.maximum(rel_end, since + 1, out=rel_end)
        np.minimum(until, DAY + 1, out=until)
        which_group, most = _peak_open(row_group, since.take(conv), until.take(conv), DAY + 2, conversations)
        peak[which_group] = most

    # online time: union of a group's session pieces
    online = np.zeros(groups, np.int64)
    if piece_group.size:
        by = np.lexsort((piece_start, piece_group))
        added = _union_seconds(piece_group[by], piece_start[by], piece_end[by])
        online = np.bincount(piece_group[by], weights=added, minlength=groups).astype(np.int64)

    day_of = keys % n_days + day0
    account_of = (keys // n_days) % n_accounts
    person_of = keys // cells
    columns = {name: summed[:, i] for i, name in enumerate(_BITS)}
    return DailyMetrics(
        person=person_of, account=account_of, day=day_of, conversations=conversations, workload=workload,
        answered=columns["answered"], unanswered=workload - columns["answered"],
        first_response_seconds=first_response_seconds, response_seconds=response_seconds,
        response_count=columns["response_count"], handling_seconds=handling_seconds,
        resolved=columns["resolved"], resolution_known=columns["resolution_known"],
        reopened=columns["reopened"], rated=columns["rated"], rated_positive=columns["rated_positive"],
        online_seconds=online, peak_concurrency=peak)


def shrunk_satisfaction(positive, rated, prior_rate, m=20.0):
    """Satisfaction pulled toward a prior (the team's rate): (positive + m·prior) /
    (ratings + m). With no ratings it is the prior; with many, the raw rate."""
    positive, rated = np.asarray(positive, np.float64), np.asarray(rated, np.float64)
    return (positive + m * np.asarray(prior_rate, np.float64)) / (rated + m)


def _ratio(numerator, denominator):
    numerator, denominator = np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def rates(sums, prior_rate=None, m=20.0):
    """Averages and rates from summed columns (a DailyMetrics, or anything with
    those attributes or keys, e.g. rows already added up per team): NaN where the
    denominator is 0. `prior_rate` (the team's satisfaction) gives the shrunk
    satisfaction; without it the pooled rate of the rows given is the prior."""
    get = (lambda name: np.asarray(sums[name], np.float64)) if isinstance(sums, dict) else \
        (lambda name: np.asarray(getattr(sums, name), np.float64))
    positive, rated = get("rated_positive"), get("rated")
    if prior_rate is None:
        total = float(np.sum(rated))
        prior_rate = float(np.sum(positive)) / total if total > 0 else 0.0
    return {
        "first_response_seconds": _ratio(get("first_response_seconds"), get("answered")),
        "response_seconds": _ratio(get("response_seconds"), get("response_count")),
        "handling_seconds": _ratio(get("handling_seconds"), get("answered")),
        "unanswered_rate": _ratio(get("unanswered"), get("workload")),
        "resolution_rate": _ratio(get("resolved"), get("resolution_known")),
        "reopen_rate": _ratio(get("reopened"), get("resolved")),
        "satisfaction": _ratio(positive, rated),
        "satisfaction_shrunk": shrunk_satisfaction(positive, rated, prior_rate, m),
    }
