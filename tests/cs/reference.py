"""A plain-Python reference of the attribution in portal/cs/engine.py: one loop per
conversation over every evidence row, written to be obviously right rather than
fast. The engine must agree with it (tests/cs/test_engine_attribution.py) and
bench/cs.py times the engine against it."""
from portal.cs import engine


def _by_key(keys):
    """{key: [rows with that key]}: each conversation looks at its own account's
    (sub-account's, person's) evidence only."""
    index = {}
    for row, key in enumerate(keys):
        index.setdefault(key, []).append(row)
    return index




def attribute(data):
    """Rows (conv, person, share, level, confidence, evidence, evidence_kind) sorted
    by (conv, person), and the list of each conversation's deciding level."""
    d = {name: getattr(data, name).tolist() for name in data.__dataclass_fields__}
    capacity = [float(v) for v in d["person_capacity"]]
    sub_bindings = _by_key(d["sub_binding_sub"])
    account_bindings = _by_key(d["account_binding_account"])
    logins = _by_key(d["login_account"])
    rosters = _by_key(d["roster_account"])
    presence = _by_key(d["presence_person"])
    rows, conv_levels = [], []
    for c in range(len(d["conv_account"])):
        account, sub, t = d["conv_account"][c], d["conv_sub_account"][c], d["conv_start"][c]
        conv_end = max(d["conv_end"][c], t)
        found, level = {}, 0

        def offer(person, weight_end, row, kind):
            best = found.get(person)
            if best is None or weight_end > best[0] or (weight_end == best[0] and row < best[1]):
                found[person] = (weight_end, row, kind)

        if sub >= 0:
            for i in sub_bindings.get(sub, ()):
                if d["sub_binding_start"][i] <= t < d["sub_binding_end"][i]:
                    offer(d["sub_binding_person"][i], d["sub_binding_end"][i], i, engine.EVIDENCE_SUB_BINDING)
        if not found:
            for i in account_bindings.get(account, ()):
                if d["account_binding_start"][i] <= t < d["account_binding_end"][i]:
                    offer(d["account_binding_person"][i], d["account_binding_end"][i], i,
                          engine.EVIDENCE_ACCOUNT_BINDING)
        if found:
            level = engine.LEVEL_BOUND
        if not found:
            for i in logins.get(account, ()):
                login_sub = d["login_sub_account"][i]
                if (d["login_person"][i] >= 0 and (sub < 0 or login_sub < 0 or sub == login_sub)
                        and d["login_start"][i] <= t < d["login_end"][i]):
                    offer(d["login_person"][i], d["login_end"][i], i, engine.EVIDENCE_LOGIN)
            level = engine.LEVEL_LOGIN if found else 0
        rostered = [r for r in rosters.get(account, ()) if d["roster_start"][r] <= t < d["roster_end"][r]]
        if not found:
            for r in rostered:
                person = d["roster_person"][r]
                for q in presence.get(person, ()):
                    if d["presence_start"][q] <= t < d["presence_end"][q]:
                        offer(person, min(d["roster_end"][r], d["presence_end"][q]), r,
                              engine.EVIDENCE_CLOCKED_ROSTERED)
            level = engine.LEVEL_CLOCKED_ROSTERED if found else 0
        if not found:
            for r in rostered:
                offer(d["roster_person"][r], d["roster_end"][r], r, engine.EVIDENCE_ROSTERED)
            level = engine.LEVEL_ROSTERED if found else 0
        conv_levels.append(level)
        if not found:
            continue
        people = sorted(found)
        k = len(people)
        rule = d["account_split_rule"][account]
        if rule == engine.SPLIT_PRESENCE:
            weights = [float(min(found[p][0], conv_end) - t) for p in people]
        elif rule == engine.SPLIT_CAPACITY:
            weights = [max(capacity[p], 0.0) for p in people]
        else:
            weights = [1.0] * k
        total = sum(weights)
        if total <= 0:
            weights, total = [1.0] * k, float(k)
        confidence = engine.LEVEL_CONFIDENCE[level] * (1 + 1 / k) / 2
        for p, weight in zip(people, weights):
            rows.append((c, p, weight / total, level, confidence, found[p][1], found[p][2]))
    return rows, conv_levels


def engine_rows(result):
    """The engine's Attribution as the reference's sorted rows."""
    return sorted(zip(result.conv.tolist(), result.person.tolist(), result.share.tolist(), result.level.tolist(),
                      result.confidence.tolist(), result.evidence.tolist(), result.evidence_kind.tolist()))


def same(rows, other, tolerance=1e-12):
    """Both row lists credit the same people with the same evidence, shares and
    confidences within `tolerance`."""
    if len(rows) != len(other):
        return False
    for a, b in zip(rows, other):
        if a[:2] != b[:2] or a[3] != b[3] or a[5:] != b[5:]:
            return False
        if abs(a[2] - b[2]) > tolerance or abs(a[4] - b[4]) > tolerance:
            return False
    return True
