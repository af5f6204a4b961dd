"""geo.address.normalise: queries as typed to the canonical text."""

from __future__ import annotations

import pytest

from geo.address import normalise


@pytest.mark.parametrize(
    "q, expected",
    [
        ("春安新区３号楼２单元", "春安新区3号楼2单元"),
        ("春安新区三号楼", "春安新区3号楼"),
        ("宁丰社区十二栋二单元", "宁丰社区12号楼2单元"),
        ("宏盛家园5#楼", "宏盛家园5号楼"),
        ("5#", "5号楼"),
        ("#5楼", "5号楼"),
        ("宏盛家园5幢", "宏盛家园5号楼"),
        ("宏盛家园5号", "宏盛家园5号楼"),
        ("宏盛家园5座2门", "宏盛家园5号楼2单元"),
        ("春安 新区，3 号楼-2单元", "春安新区3号楼2单元"),
        ("【春安新区】3号楼", "春安新区3号楼"),
        ("3 - 2 - 1203", "3-2-1203"),
        ("3—2—1203", "3-2-1203"),
        ("3栋2单元1203", "3号楼2单元1203"),
        ("3号楼2单元1203号", "3号楼2单元1203室"),
        ("第三栋第二单元", "3号楼2单元"),
        ("3号楼2单元12楼", "3号楼2单元12层"),
        ("3楼", "3号楼"),
        ("宁丰社区十二号楼二单元一二零三室", "宁丰社区12号楼2单元1203室"),
        ("Chun'an New District Building 3 Unit 2", "chunannewdistrict3号楼2单元"),
        ("chunan xinqu 3 hao lou 2 danyuan", "chunanxinqu3号楼2单元"),
        ("Room 1203, Unit 2, Bldg 3", "1203室2单元3号楼"),
        ("No. 3 Building", "3号楼"),
        ("", ""),
    ],
)
def test_normalise(q, expected):
    assert normalise(q) == expected
