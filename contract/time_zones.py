"""A schedule's time zone: an exact tz database name, read the same on every machine.

Cloud Scheduler's Job.time_zone "must be a time zone name from the tz database" (Cloud Scheduler
API reference, Job). Loading a name through the zoneinfo files is not enough to know it is one:
on a case-insensitive file system (macOS' default) `europe/amsterdam` loads the Amsterdam file,
and on Linux the same name fails, so `schedule.py validate` and the trigger would disagree about
one file. A name is therefore taken only as the tz database writes it, one of
`zoneinfo.available_timezones()` exactly. The same reference adds "For UTC use the string
'utc'"; these files use the tz database's own `UTC` instead (one spelling, which every library
reads as UTC), and say so when they refuse `utc`. The names a zoneinfo tree lists beside the
zones (`localtime`: this machine's own zone, `posixrules`, `Factory`, the `right/` and `posix/`
copies) depend on the machine and are refused too. Pure logic, standard library only.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

#: Files of a zoneinfo tree that are not portable zone names.
NOT_PORTABLE = frozenset({"localtime", "posixrules", "Factory"})


def machine_dependent(name: str) -> bool:
    """Whether `name` is one a local zoneinfo tree may load but that is no IANA zone."""
    return name in NOT_PORTABLE or name.startswith(("right/", "posix/"))


@lru_cache(maxsize=1)
def names() -> frozenset[str]:
    """The tz database's zone names, exactly as written there (read once per process)."""
    return frozenset(n for n in available_timezones() if not machine_dependent(n))


def problem(name: object) -> str | None:
    """Why `name` is not an exact tz database zone name, or None when it is one."""
    if not isinstance(name, str) or not name:
        return "time_zone must be an IANA time zone name such as Europe/Amsterdam"
    if machine_dependent(name):
        return (
            f"time zone '{name:.60}' depends on the machine's zone files (its meaning differs "
            "between this computer and Cloud Scheduler); use an IANA name such as Europe/Amsterdam"
        )
    if name in names():
        return None
    exact = next((n for n in sorted(names()) if n.lower() == name.lower()), None)
    if exact == "UTC":
        return (
            f"time zone '{name:.60}': write 'UTC', the tz database's name (Cloud Scheduler "
            "also takes 'utc'; these files use one spelling, the one every library reads)"
        )
    if exact:
        return (
            f"time zone '{name:.60}' is not written as the tz database writes it: use '{exact}' "
            "(names are case-sensitive; a case-insensitive disk would load it, Linux would not)"
        )
    hint = difflib.get_close_matches(name, sorted(names()), n=1, cutoff=0.6)
    return f"unknown time zone '{name:.60}'" + (f"; did you mean '{hint[0]}'?" if hint else "")


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of an exact zone name; ValueError saying why for anything else."""
    why = problem(name)
    if why:
        raise ValueError(why)
    return ZoneInfo(name)
