#!/usr/bin/python3
"""Generates cases.json: CronTimer parameters and the fire times that
APScheduler's CronTrigger (which st2's timer engine uses) computes for them.

Run with a Python that has APScheduler 3.x (Debian: python3-apscheduler):

    /usr/bin/python3 internal/sensor/timer/testdata/apscheduler/gen.py > internal/sensor/timer/testdata/apscheduler/cases.json

Only UTC and zones without daylight-saving time are generated: on DST
changes BWC follows EventBridge Scheduler, not APScheduler (see
docs/sensors.md).
"""
import datetime
import json
import random
import sys

import apscheduler
from apscheduler.triggers.cron import CronTrigger
import pytz

rnd = random.Random(20261129)

BOUNDS = {
    'year': (2024, 2040), 'month': (1, 12), 'day': (1, 31), 'week': (1, 53),
    'day_of_week': (0, 6), 'hour': (0, 23), 'minute': (0, 59), 'second': (0, 59),
}
WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']


def item(field):
    lo, hi = BOUNDS[field]
    if field == 'year' and rnd.random() < 0.3:
        return rnd.choice(['*/2', '*/5', '2030'])
    r = rnd.random()
    if field == 'day' and r < 0.15:
        return rnd.choice(['last', '%s %s' % (rnd.choice(['1st', '2nd', '3rd', '4th', '5th', 'last']), rnd.choice(WEEKDAYS))])
    if field == 'day_of_week' and r < 0.3:
        a = rnd.randrange(7)
        b = rnd.randrange(a, 7)
        return WEEKDAYS[a] if a == b else '%s-%s' % (WEEKDAYS[a], WEEKDAYS[b])
    if field == 'month' and r < 0.3:
        a = rnd.randrange(12)
        b = rnd.randrange(a, 12)
        return MONTHS[a] if a == b else '%s-%s' % (MONTHS[a], MONTHS[b])
    r = rnd.random()
    if r < 0.15:
        return '*'
    if r < 0.35:
        return '*/%d' % rnd.randint(1, max(1, min(hi - lo, 20)))
    a = rnd.randint(lo, hi)
    if r < 0.55:
        return str(a)
    b = rnd.randint(a, hi)
    if r < 0.75:
        return '%d-%d' % (a, b)
    if r < 0.9 and b > a:
        return '%d-%d/%d' % (a, b, rnd.randint(1, b - a))
    if a < hi:
        return '%d/%d' % (a, rnd.randint(1, hi - a))
    return str(a)


def expr(field):
    n = 1 if rnd.random() < 0.7 else rnd.randint(2, 3)
    return ','.join(item(field) for _ in range(n))


def case():
    fields = list(BOUNDS)
    chosen = rnd.sample(fields, rnd.randint(1, 4))
    params = {}
    for f in chosen:
        v = expr(f)
        params[f] = int(v) if v.isdigit() and rnd.random() < 0.5 else v
    params['timezone'] = rnd.choice(['UTC', 'UTC', 'Asia/Kolkata', 'Asia/Tokyo'])
    return params


def fires(params, start, n):
    p = dict(params)
    tz = pytz.timezone(p.pop('timezone'))
    trig = CronTrigger(timezone=tz, **p)
    out = []
    prev = start
    for _ in range(n):
        nxt = trig.get_next_fire_time(None, prev + datetime.timedelta(microseconds=1))
        if nxt is None:
            break
        out.append(nxt.astimezone(pytz.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))
        prev = nxt
    return out


def main():
    starts = [datetime.datetime(2026, 2, 26, 10, 17, 42, tzinfo=pytz.utc),
              datetime.datetime(2027, 12, 31, 23, 59, 59, tzinfo=pytz.utc)]
    cases = []
    while len(cases) < 400:
        params = case()
        try:
            CronTrigger(**{k: v for k, v in params.items() if k != 'timezone'})
        except ValueError as e:
            cases.append({'params': params, 'error': str(e)})
            continue
        start = rnd.choice(starts)
        cases.append({'params': params, 'from': start.strftime('%Y-%m-%dT%H:%M:%SZ'), 'fires': fires(params, start, 5)})
    # Expressions APScheduler refuses: BWC must refuse them too.
    for params in [{'minute': '*/0'}, {'hour': '24'}, {'hour': 24}, {'day': '0'}, {'day_of_week': '7'},
                   {'month': '13'}, {'second': '10-5'}, {'minute': '*/60'}, {'day': '6th fri'},
                   {'hour': 'last'}, {'week': '54'}, {'year': '1969'}, {'month': 'foo'},
                   {'day_of_week': 'fri-mon'}, {'day': 'last xyz'}, {'minute': '1-2-3'}, {'hour': '-1'},
                   {'minute': '5-10/10'}, {'day': '*/31'}, {'month': 'jan-xyz'}]:
        params['timezone'] = 'UTC'
        try:
            CronTrigger(**{k: v for k, v in params.items() if k != 'timezone'})
        except ValueError as e:
            cases.append({'params': params, 'error': str(e)})
            continue
        raise SystemExit('APScheduler accepts %r' % params)
    json.dump({'generator': 'APScheduler %s CronTrigger' % apscheduler.__version__, 'cases': cases}, sys.stdout, indent=1)
    sys.stdout.write('\n')


main()
