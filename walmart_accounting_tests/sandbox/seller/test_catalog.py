"""The catalogue: SKU numbering, GTINs with valid check digits, prices above cost."""

from __future__ import annotations

from walmart_accounting.sandbox.seller import gtin_check_digit, is_valid_gtin


def test_skus_and_gtins(seller, config):
    assert len(seller.skus) >= 20
    assert [s.sku for s in seller.skus] == [f"WM-SKU-{i:04d}" for i in range(1, len(seller.skus) + 1)]
    assert set(config.ledgers.xero.skus.items) <= {s.sku for s in seller.skus}
    gtins = [s.gtin for s in seller.skus]
    assert len(set(gtins)) == len(gtins)
    for spec in seller.skus:
        assert len(spec.gtin) == 14 and is_valid_gtin(spec.gtin), spec
        assert 0 < spec.cost_cents < spec.price_cents
        assert spec.product_tax_code.isdigit()
    assert is_valid_gtin("036000291452") and not is_valid_gtin("036000291453")
    assert gtin_check_digit("0003600029145") == "2"
    broken = gtins[0][:-1] + str((int(gtins[0][-1]) + 1) % 10)
    assert not is_valid_gtin(broken)
