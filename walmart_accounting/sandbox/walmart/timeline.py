"""Time passing for the synthetic seller: the emulator's clock moves and Walmart's records change as they would."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class Changes:
    """What happened at Walmart between two moments: orders placed, orders changed, returns opened or changed."""

    placed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    returns_opened: list[str] = field(default_factory=list)
    returns_changed: list[str] = field(default_factory=list)


class Timeline:
    """Moves a Walmart emulator through its synthetic seller's window: each record re-rendered when it changes.

    The seller knows every event of its window (placed, acknowledged, shipped, delivered, cancelled, refunded;
    returns opened, received, refunded); `travel_to` renders the records whose events fell in the step, as of
    its end, so the API answers what Walmart would have answered then, with lastModified where it moved.
    """

    def __init__(self, state) -> None:
        seller = state.seller
        if not hasattr(seller, "_pos"):
            raise ValueError("time travel needs the synthetic seller (a recorded seller's past is fixed)")
        self.state, self.seller = state, seller
        events: list[tuple[int, str, str, str]] = []  # (ms, kind, id, what)
        for po in seller._pos:
            events.append((_ms(po.created), "order", po.po_id, "placed"))
            for when in (po.ack_at, po.ship_at, po.deliver_at):
                if when is not None:
                    events.append((_ms(when), "order", po.po_id, "changed"))
            for line in po.lines:
                if line.cancel_at is not None:
                    events.append((_ms(line.cancel_at), "order", po.po_id, "cancelled"))
                if line.refund is not None and line.refund.refunded_at is not None:
                    events.append((_ms(line.refund.refunded_at), "order", po.po_id, "changed"))
        for ret in seller._returns:
            events.append((_ms(ret.created), "return", ret.return_id, "opened"))
            for when in (ret.received_at, ret.refunded_at):
                if when is not None:
                    events.append((_ms(when), "return", ret.return_id, "changed"))
        self.events = sorted(events)
        self._times = [e[0] for e in self.events]
        self._at: int | None = None

    def travel_to(self, moment: datetime, notify: bool = False) -> Changes:
        """Set the emulators' clock to `moment` and bring every record that changed since the last step up to it.

        With `notify`, the events Walmart sends for what happened go to the webhook subscriptions: PO_CREATED and
        ORDER_UPDATES for a new order, PO_LINE_AUTOCANCELLED for a cancelled line, RETURN_CREATED for a return.
        """
        moment = moment.astimezone(UTC)
        target = _ms(moment)
        state, seller = self.state, self.seller
        state.clock.advance(target / 1000 - state.clock.now())
        seller.as_of = moment
        start = self._at
        if start is None:  # the first step renders the past as it stood at `moment`
            due = [e for e in self.events if e[0] <= target]
        else:
            due = self.events[bisect.bisect_right(self._times, start):bisect.bisect_right(self._times, target)]
        self._at = target
        changes = Changes()
        orders = sorted({e[2] for e in due if e[1] == "order"})
        returns = sorted({e[2] for e in due if e[1] == "return"})
        with state.lock:
            for po_id in orders:
                if po_id in state._own:
                    continue  # changed through the API since: the emulator's copy stands
                state._add_order_locked(seller._render_order(seller._po_index[po_id]))
            state._reindex_orders()
            for return_id in returns:
                state._add_return_locked(seller._render_return(seller._return_index[return_id]))
        for _when, kind, record, what in due:
            if start is None:
                continue  # the past is not news
            bucket = {("order", "placed"): changes.placed, ("order", "changed"): changes.changed,
                      ("order", "cancelled"): changes.cancelled, ("return", "opened"): changes.returns_opened,
                      ("return", "changed"): changes.returns_changed}[(kind, what)]
            if record not in bucket:
                bucket.append(record)
        if notify:
            for po_id in changes.placed:
                state.order_created(po_id)
            for po_id in changes.cancelled:
                state.emit("PO_LINE_AUTOCANCELLED", po_id)
            for return_id in changes.returns_opened:
                state.emit("RETURN_CREATED", return_id)
        return changes
