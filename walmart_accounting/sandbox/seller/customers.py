"""The seller's customers: names (some needing escaping downstream), addresses, repeat buyers, and unique ids."""

from __future__ import annotations

from walmart_accounting.sandbox.seller.geography import _State
from walmart_accounting.sandbox.seller.records import _Customer

_FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty "
    "Anthony Sandra Mark Ashley Donald Kimberly Steven Emily Andrew Donna Joshua Michelle Kevin "
    "Carol Brian Amanda Jose Melissa Luis Maria Siobhan Aoife Chloe Zoe Andre Renee Jamal Keisha "
    "Priya Wei Minh Fatima Diego Camila"
).split()
_FIRST_NAMES += ["José", "Chloé", "Zoë", "Renée", "André"]
_LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Kim Chen "
    "McAllister MacDonald Kowalski Schmidt Novak"
).split()
_LAST_NAMES += ["O'Brien", "O'Connor", "O'Neil", "D'Angelo", "D'Souza", "Muñoz", "Peña", "García"]
_NICKNAMES = {"Robert": "Bobby", "William": "Bill", "James": "Jim", "Elizabeth": "Liz", "Anthony": "Tony",
              "Patricia": "Trish", "Joseph": "Joe", "Katherine": "Kate", "Richard": "Rick"}
_STREETS = ("Maple", "Oak", "Cedar", "Willow", "Lakeview", "Sunset", "Highland", "Park", "Church", "Mill",
            "River", "Meadow", "Ridge", "Spring", "Forest", "Hillcrest", "Washington", "Lincoln", "Jefferson")
_SUFFIXES = ("St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl")


class CustomersMixin:
    """Ids and people; mixed into SyntheticSeller (synthetic.py)."""

    def _new_id(self, digits: int, rng=None) -> str:
        while True:
            value = str((rng or self._rng).randrange(10 ** (digits - 1) * 2, 10**digits))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    def _new_address(self) -> tuple[dict[str, str], _State]:
        rng = self._rng
        state = rng.choices(self._states, weights=self._state_weights)[0]
        city, zip_code = rng.choice(state.cities)
        address = {
            "address1": f"{rng.randrange(10, 9999)} {rng.choice(_STREETS)} {rng.choice(_SUFFIXES)}",
            "city": city,
            "state": state.code,
            "postalCode": zip_code,
        }
        if rng.random() < 0.2:
            address["address2"] = rng.choice(("Apt", "Unit", "Suite")) + f" {rng.randrange(1, 40)}{rng.choice('ABCD')}"
        return address, state

    def _new_customer(self) -> _Customer:
        rng = self._rng
        index = len(self._customers)
        # The first two customers are regulars whose names need OData/SQL escaping downstream.
        if index == 0:
            first, last, weight = "Siobhan", "O'Brien", 8
        elif index == 1:
            first, last, weight = 'Robert "Bobby"', "D'Angelo", 8
        else:
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            if first in _NICKNAMES and rng.random() < 0.25:
                first = f'{first} "{_NICKNAMES[first]}"'
            weight = 4 if rng.random() < 0.1 else 1
        address, _ = self._new_address()
        customer = _Customer(
            email=f"{rng.getrandbits(128):032X}@relay.walmart.com",
            first=first,
            last=last,
            phone=f"{rng.randrange(201, 989)}{rng.randrange(200, 999)}{rng.randrange(0, 9999):04d}",
            address=address,
            weight=weight,
        )
        self._customers.append(customer)
        return customer

    def _pick_customer(self) -> _Customer:
        if self._customers and self._rng.random() < 0.3:
            return self._rng.choices(self._customers, weights=[c.weight for c in self._customers])[0]
        return self._new_customer()
