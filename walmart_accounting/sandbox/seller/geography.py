"""Where customers live: states with their weight, sales tax rate and shipping taxability, cities and ZIP codes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# --- geography and tax ---------------------------------------------------------------------------

# state | population weight | combined sales tax % | shipping taxable | City:ZIP, ...
# The rate applies only where the default mapping says tax is collected (facilitator or
# seller-remitted states); every other state is a zero-tax state for this seller.
_GEO = """
CA|120|8.85|N|Los Angeles:90012,San Diego:92101,Sacramento:95814,San Jose:95112,Fresno:93721
TX|90|8.20|Y|Houston:77002,Dallas:75201,Austin:78701,San Antonio:78205
FL|67|7.02|N|Miami:33130,Orlando:32801,Tampa:33602,Jacksonville:32202
NY|60|8.53|Y|Brooklyn:11201,Buffalo:14202,Rochester:14604,Albany:12207
PA|39|6.34|N|Philadelphia:19103,Pittsburgh:15222,Allentown:18101
IL|38|8.86|N|Chicago:60607,Naperville:60540,Springfield:62701
OH|35|7.24|Y|Columbus:43215,Cleveland:44113,Cincinnati:45202
GA|33|7.38|Y|Atlanta:30303,Savannah:31401,Augusta:30901
NC|32|6.99|Y|Charlotte:28202,Raleigh:27601,Greensboro:27401
MI|30|6.00|N|Detroit:48226,Grand Rapids:49503,Ann Arbor:48104
NJ|28|6.60|Y|Newark:07102,Jersey City:07302,Trenton:08608
VA|26|5.77|N|Virginia Beach:23451,Richmond:23219,Arlington:22201
WA|23|9.38|Y|Seattle:98101,Spokane:99201,Tacoma:98402
AZ|22|8.37|N|Phoenix:85004,Tucson:85701,Mesa:85201
MA|21|6.25|N|Boston:02108,Worcester:01608,Springfield:01103
TN|21|9.55|Y|Nashville:37203,Memphis:38103,Knoxville:37902
IN|20|7.00|Y|Indianapolis:46204,Fort Wayne:46802
MO|18|8.29|N|Kansas City:64106,St. Louis:63101
MD|18|6.00|N|Baltimore:21202,Silver Spring:20910
WI|18|5.43|Y|Milwaukee:53202,Madison:53703
CO|17|7.81|N|Denver:80202,Colorado Springs:80903
MN|17|7.49|Y|Minneapolis:55401,Saint Paul:55102
SC|16|7.49|Y|Charleston:29401,Columbia:29201
AL|15|9.29|N|Birmingham:35203,Huntsville:35801
LA|14|9.56|N|New Orleans:70112,Baton Rouge:70801
KY|13|6.00|Y|Louisville:40202,Lexington:40507
OR|13|0|N|Portland:97204,Eugene:97401,Salem:97301
OK|12|8.98|N|Oklahoma City:73102,Tulsa:74103
CT|11|6.35|Y|Hartford:06103,New Haven:06510
UT|10|7.19|N|Salt Lake City:84101,Provo:84601
IA|10|6.94|N|Des Moines:50309,Cedar Rapids:52401
NV|9|8.23|N|Las Vegas:89101,Reno:89501
AR|9|9.45|Y|Little Rock:72201,Fayetteville:72701
MS|9|7.07|Y|Jackson:39201,Gulfport:39501
KS|9|8.65|Y|Wichita:67202,Overland Park:66204
NM|6|7.62|Y|Albuquerque:87102,Santa Fe:87501
NE|6|6.97|Y|Omaha:68102,Lincoln:68508
ID|6|6.03|N|Boise:83702,Idaho Falls:83402
WV|5|6.55|Y|Charleston:25301,Morgantown:26501
HI|4|4.44|Y|Honolulu:96813,Hilo:96720
NH|4|0|N|Manchester:03101,Nashua:03060
ME|4|5.50|N|Portland:04101,Bangor:04401
RI|3|7.00|N|Providence:02903
MT|3|0|N|Billings:59101,Missoula:59802
DE|3|0|N|Wilmington:19801,Dover:19901
SD|3|6.40|Y|Sioux Falls:57104
ND|2|6.96|N|Fargo:58102
AK|2|0|N|Anchorage:99501
DC|2|6.00|Y|Washington:20001
VT|2|6.24|Y|Burlington:05401
WY|2|5.44|Y|Cheyenne:82001
PR|20|11.5|Y|San Juan:00901,Bayamon:00961,Ponce:00716
"""

_EAST = frozenset(
    "AL CT DC DE FL GA IL IN KY MA MD ME MI MS NC NH NJ NY OH PA PR RI SC TN VA VT WI WV".split()
)


@dataclass(frozen=True)
class _State:
    code: str
    weight: int
    rate_pct: Decimal
    shipping_taxable: bool
    cities: tuple[tuple[str, str], ...]


def _build_geo() -> list[_State]:
    states = []
    for raw in _GEO.strip().splitlines():
        code, weight, rate, ship, cities = raw.split("|")
        pairs = tuple(tuple(c.split(":")) for c in cities.split(","))
        states.append(_State(code, int(weight), Decimal(rate), ship == "Y", pairs))
    return states
