#!/usr/bin/env python3
"""Generates traces/webinar.csv: one working day (07:00-19:00 Europe/Berlin, Monday
2026-01-05; trace t = 0 is 07:00 local = simulation.start in webinar.schedule.json) of
background meetings plus three announced webinars of 12 rooms x 70 participants.

Deterministic (fixed seed): re-running it rewrites the same file.
Usage: python3 traces/webinar_gen.py > traces/webinar.csv
"""
import math
import random

SEED = 20260105
DAY_SECONDS = 12 * 3600  # 07:00 -> 19:00 local

# Announced webinars, as seconds after 07:00 local: (start, end). They must match the events
# in webinar.schedule.json.
WEBINARS = [
    (3 * 3600, 4 * 3600 + 1800),            # 10:00-11:30
    (6 * 3600 + 1800, 7 * 3600 + 1800),     # 13:30-14:30
    (9 * 3600, 10 * 3600),                  # 16:00-17:00
]
ROOMS = 12
ROOM_PARTICIPANTS = 70


def background_rate(t):
    """Meetings starting per second: ramps up 07:00-09:00, a working-day plateau with a lunch
    dip, ramps down after 17:00, none after 18:30 (about 200 participants at once on the plateau)."""
    hour = 7 + t / 3600
    if hour < 9:
        shape = (hour - 7) / 2
    elif hour < 12:
        shape = 1.0
    elif hour < 13:
        shape = 0.7
    elif hour < 17:
        shape = 1.0
    elif hour < 18.5:
        shape = 1.0 - (hour - 17) / 1.5
    else:
        shape = 0.0
    return 0.015 * shape


def main():
    rng = random.Random(SEED)
    rows = []
    # Background: a Poisson process thinned by background_rate, small meetings of 2-12 people
    # lasting 15-55 minutes.
    peak_rate = 0.015
    t = 0.0
    while True:
        t += rng.expovariate(peak_rate)
        if t >= DAY_SECONDS:
            break
        if rng.random() * peak_rate > background_rate(t):
            continue
        size = min(12, max(2, int(round(rng.lognormvariate(math.log(5), 0.45)))))
        duration = rng.uniform(15, 55) * 60
        rows.append((round(t), round(duration), size))
    # Webinars: rooms open from 1 minute early to 2 minutes late and close within 3 minutes of
    # the announced end.
    for start, end in WEBINARS:
        for _ in range(ROOMS):
            room_start = start + rng.uniform(-60, 120)
            room_end = end + rng.uniform(-180, 180)
            rows.append((round(room_start), round(room_end - room_start), ROOM_PARTICIPANTS))
    rows.sort()
    print("start_s,duration_s,participants")
    for start, duration, participants in rows:
        print(f"{start},{duration},{participants}")


if __name__ == "__main__":
    main()
