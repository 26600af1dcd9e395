# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promotion windows as one-off Auto Scaling scheduled actions (pure Python, no AWS call).

A promotion (name, start, end, min_size, max_size, scale_out_minutes) becomes two one-off
scheduled actions on the web group:

- ``<prefix><name>-scale-out`` at start - scale_out_minutes: MinSize = the promotion's floor,
  MaxSize = its ceiling. Raising MinSize above the desired capacity raises the desired capacity
  with it (EC2 Auto Scaling user guide, "Scheduled scaling"), so the instances are warm when the
  promotion opens.
- ``<prefix><name>-scale-back`` at end: the group's own MinSize and MaxSize again; target
  tracking then scales in as the traffic falls.

EC2 Auto Scaling runs a one-off action once and deletes it; a StartTime in the past is refused
by the API ("Given start time is in the past"). So an action whose time has passed is left
alone here: neither created, updated nor deleted. A promotion whose end has passed is refused:
the inventory should no longer declare it.

Both ``plan`` and ``check`` are used before any AWS call: by the compute role's validation (a
filter) and by the ``autoscaling_promotions`` module.
"""

from __future__ import annotations

import datetime as dt
import re

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DEFAULT_PREFIX = "promotion-"
# EC2 Auto Scaling quota: 125 scheduled actions per Auto Scaling group (EC2 Auto Scaling user
# guide, "Auto Scaling service quotas"); two per promotion.
MAX_PROMOTIONS = 62
FIELDS = ("name", "start", "end", "min_size", "max_size")


class PromotionError(ValueError):
    """Every rule a promotion list breaks, one line each."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_time(value, where: str) -> dt.datetime:
    """An ISO 8601 time with its UTC offset (a naive time is ambiguous: refused)."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise PromotionError([f"{where} must be an ISO 8601 time like 2027-11-26T00:00:00+01:00 (got '{value}')"]) from None
    if moment.tzinfo is None:
        raise PromotionError([f"{where} needs a UTC offset or Z, like 2027-11-26T00:00:00+01:00 (got '{value}')"])
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _int(promotion: dict, key: str, where: str, errors: list[str], default=None):
    value = promotion.get(key, default)
    if isinstance(value, bool) or value is None:
        errors.append(f"{where}.{key} must be a whole number (got {value!r})")
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.append(f"{where}.{key} must be a whole number (got {value!r})")
        return None
    if str(number) != str(value).strip():
        errors.append(f"{where}.{key} must be a whole number (got {value!r})")
        return None
    return number


def plan(promotions, base_min: int, base_max: int, now: dt.datetime | None = None,
         prefix: str = DEFAULT_PREFIX, variable: str = "promotions") -> list[dict]:
    """The scheduled actions the promotions need, in time order; PromotionError lists every rule broken.

    Each action: {name, promotion, kind (scale-out|scale-back), start_time (aware UTC), min_size,
    max_size, past (its time has passed)}.
    """
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    errors: list[str] = []
    if not isinstance(promotions, list):
        raise PromotionError([f"{variable} must be a list of promotions (got {type(promotions).__name__})"])
    if len(promotions) > MAX_PROMOTIONS:
        errors.append(f"{variable} declares {len(promotions)} promotions; a group holds at most 125 scheduled "
                      f"actions, two a promotion: at most {MAX_PROMOTIONS}")
    windows = []
    seen: set[str] = set()
    for index, promotion in enumerate(promotions):
        where = f"{variable}[{index}]"
        if not isinstance(promotion, dict):
            errors.append(f"{where} must be a mapping with {', '.join(FIELDS)}")
            continue
        unknown = sorted(set(promotion) - set(FIELDS) - {"scale_out_minutes"})
        if unknown:
            errors.append(f"{where} has unknown keys {unknown}; allowed: {', '.join(FIELDS)}, scale_out_minutes")
        missing = [key for key in FIELDS if key not in promotion]
        if missing:
            errors.append(f"{where} misses {', '.join(missing)}")
            continue
        name = str(promotion["name"])
        where = f"{variable}[{index}] ({name})"
        if not NAME.match(name):
            errors.append(f"{where}.name must be 1-63 lower-case letters, digits and dashes")
        elif name in seen:
            errors.append(f"{where}.name is declared twice")
        seen.add(name)
        try:
            start = parse_time(promotion["start"], f"{where}.start")
            end = parse_time(promotion["end"], f"{where}.end")
        except PromotionError as exc:
            errors.extend(exc.errors)
            continue
        floor = _int(promotion, "min_size", where, errors)
        ceiling = _int(promotion, "max_size", where, errors)
        lead = _int(promotion, "scale_out_minutes", where, errors, default=30)
        if None in (floor, ceiling, lead):
            continue
        broken = len(errors)
        if end <= start:
            errors.append(f"{where}.end ({end:%Y-%m-%dT%H:%MZ}) must be after its start ({start:%Y-%m-%dT%H:%MZ})")
        if end <= now:
            errors.append(f"{where} ended at {end:%Y-%m-%dT%H:%MZ}, in the past: remove it from {variable}")
        if lead < 0 or lead > 24 * 60:
            errors.append(f"{where}.scale_out_minutes must be 0-1440 (got {lead})")
        if not base_min <= floor <= ceiling:
            errors.append(f"{where}.min_size ({floor}) must be at least the group's min size ({base_min}) "
                          f"and at most the promotion's max_size ({ceiling})")
        if ceiling < base_max:
            errors.append(f"{where}.max_size ({ceiling}) must not be below the group's max size ({base_max}): "
                          "a promotion never lowers the ceiling")
        if len(errors) == broken:
            windows.append((start - dt.timedelta(minutes=lead), end, name, floor, ceiling))
    windows.sort()
    for before, after in zip(windows, windows[1:], strict=False):
        if after[0] <= before[1]:
            errors.append(f"promotions {before[2]} (to {before[1]:%Y-%m-%dT%H:%MZ}) and {after[2]} (scale-out at "
                          f"{after[0]:%Y-%m-%dT%H:%MZ}) overlap: merge them or move one")
    if errors:
        raise PromotionError(errors)
    actions = []
    for out_at, end, name, floor, ceiling in windows:
        actions.append({"name": f"{prefix}{name}-scale-out", "promotion": name, "kind": "scale-out",
                        "start_time": out_at, "min_size": floor, "max_size": ceiling, "past": out_at <= now})
        actions.append({"name": f"{prefix}{name}-scale-back", "promotion": name, "kind": "scale-back",
                        "start_time": end, "min_size": base_min, "max_size": base_max, "past": False})
    return actions


def limits(actions: list[dict], base_min: int, base_max: int, desired: int | None = None) -> dict:
    """The size limits a converge may give the group now, from ``plan``'s actions.

    While a promotion's scale-out has run and its scale-back has not, the group keeps the
    promotion's floor and ceiling (never below the base ones): putting the inventory's base back
    in the middle of a promotion would undo its scale-out, and a maximum below the desired
    capacity terminates instances at once (EC2 Auto Scaling user guide, "Set capacity limits on
    your Auto Scaling group"). For that reason the ceiling also never drops below the group's
    current desired capacity while a promotion runs. Otherwise the limits are the base ones.

    Returns {min_size, max_size, under_way: [{name, min_size, max_size, since, until}]}.
    """
    floor, ceiling, under_way = int(base_min), int(base_max), []
    backs = {a["promotion"]: a["start_time"] for a in actions if a["kind"] == "scale-back"}
    for action in actions:
        if action["kind"] == "scale-out" and action["past"]:
            floor, ceiling = max(floor, action["min_size"]), max(ceiling, action["max_size"])
            under_way.append({"name": action["promotion"], "min_size": action["min_size"],
                              "max_size": action["max_size"], "since": action["start_time"],
                              "until": backs[action["promotion"]]})
    if under_way and desired is not None:
        ceiling = max(ceiling, int(desired))
    return {"min_size": floor, "max_size": ceiling, "under_way": under_way}


def comparable(action: dict) -> dict:
    """What decides whether an existing action matches: time (UTC, to the second), sizes, no recurrence."""
    start = action.get("start_time")
    if isinstance(start, dt.datetime):
        start = start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"start_time": start, "min_size": action.get("min_size"), "max_size": action.get("max_size"),
            "desired_capacity": action.get("desired_capacity"), "recurrence": action.get("recurrence")}


def reconcile(wanted: list[dict], existing: list[dict], prefix: str = DEFAULT_PREFIX) -> dict:
    """What to put and what to delete. existing: the group's actions, snake_case (describe_scheduled_actions)."""
    current = {a["scheduled_action_name"]: a for a in existing if a["scheduled_action_name"].startswith(prefix)}
    wanted_names = {a["name"] for a in wanted}
    put, keep, stale = [], [], []
    for action in wanted:
        have = current.get(action["name"])
        if action["past"]:
            # Already run (and deleted by AWS), or too late to schedule. An action still there under
            # this name with another definition (the promotion was moved earlier) would fire late: gone.
            if have and comparable(have) != comparable(action):
                stale.append(action["name"])
            continue
        if have and comparable(have) == comparable(action):
            keep.append(action["name"])
        else:
            put.append(action)
    delete = sorted([name for name in current if name not in wanted_names] + stale)
    return {"put": put, "delete": delete, "keep": keep}
