"""Changed Walmart records to the partitions they belong to, and those partitions to a few range runs."""

from walmart_accounting.transform.walmart.changes import batch_ranges, order_hours, return_days, split_by_partition


def _hours(n: int) -> list[str]:
    return [f"2026-10-{19 + h // 24:02d}-{h % 24:02d}:00" for h in range(n)]


def test_an_order_belongs_to_the_hour_it_was_placed_in_whenever_it_changed():
    placed = 1760860800000 + 3 * 3600_000 + 59_000  # 2025-10-19 11:00:59 UTC
    hours, problems = order_hours([{"purchaseOrderId": "1", "orderDate": placed},
                                   {"purchaseOrderId": "2", "orderDate": "not a time"}])
    assert hours == {"2025-10-19-11:00"} and problems == ["order '2': orderDate 'not a time' is not epoch milliseconds"]


def test_a_return_belongs_to_the_day_it_was_opened_in_utc():
    days, problems = return_days([{"returnOrderId": "R1", "returnOrderDate": "2026-10-20T23:30:00.000-05:00"},
                                  {"returnOrderId": "R2"}])
    assert days == {"2026-10-21"} and problems == ["return 'R2': returnOrderDate None is not an ISO timestamp"]


def test_partitions_not_complete_yet_wait_and_those_before_the_start_are_set_aside():
    existing = _hours(48)
    now, later, before = split_by_partition({"2026-10-19-05:00", "2026-10-21-00:00", "2026-10-18-23:00"}, existing)
    assert (now, later, before) == (["2026-10-19-05:00"], ["2026-10-21-00:00"], ["2026-10-18-23:00"])


def test_close_changes_share_a_run_and_a_burst_is_a_few_runs():
    existing = _hours(24 * 20)
    assert batch_ranges({existing[1], existing[5], existing[100]}, existing, max_gap=24, max_runs=4) == [
        (existing[1], existing[5]), (existing[100], existing[100])]
    burst = set(existing[::30])  # 16 changes, each 30 hours apart
    ranges = batch_ranges(burst, existing, max_gap=24, max_runs=4)
    assert len(ranges) == 4 and ranges[0][0] == existing[0] and ranges[-1][1] == existing[450]
    covered = {k for first, last in ranges for k in existing[existing.index(first):existing.index(last) + 1]}
    assert burst <= covered
    assert batch_ranges(set(), existing, max_gap=24, max_runs=4) == []
