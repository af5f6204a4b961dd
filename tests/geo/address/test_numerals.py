"""geo.address.numerals: Chinese numerals to integers."""

from __future__ import annotations

import pytest

from geo.address import chinese_numeral_to_int


@pytest.mark.parametrize(
    "text, value",
    [
        ("零", 0), ("〇", 0), ("一", 1), ("二", 2), ("两", 2), ("三", 3), ("九", 9),
        ("十", 10), ("十二", 12), ("二十", 20), ("二十一", 21), ("九十九", 99),
        ("一百", 100), ("一百零五", 105), ("一百一十", 110), ("一百一", 110),
        ("两百三十四", 234), ("一千零一", 1001), ("三千五", 3500), ("一万", 10000),
        ("一二零三", 1203), ("幺零一", 101), ("12", 12), ("１２", 12),
    ],
)
def test_chinese_numeral_to_int(text, value):
    assert chinese_numeral_to_int(text) == value


@pytest.mark.parametrize("bad", ["", "  ", "三号", "abc", "十x"])
def test_chinese_numeral_to_int_rejects(bad):
    with pytest.raises(ValueError):
        chinese_numeral_to_int(bad)
