"""Fictional names and phone numbers of the staff."""

from __future__ import annotations

import numpy as np


SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
            "阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹武乔贺常樊")
# Shanxi surnames weigh more: 王 张 李 刘 郭 赵 杨 武 贾 高.
_SURNAME_BOOST = {"王": 6, "张": 5, "李": 5, "刘": 4, "郭": 4, "赵": 3, "杨": 3, "武": 3, "贾": 3, "高": 3}
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志红海燕鹏飞丹晓东文斌宇浩凯俊峰"
         "春梅玲秀兰淑珍凤翠莲宏亮永利广福德成林旭晨阳欣怡子涵梓轩雨婷佳琪思远")


def fake_names(rng: np.random.Generator, n: int) -> list[str]:
    sur = list(SURNAMES)
    w = np.array([_SURNAME_BOOST.get(s, 1.0) for s in sur], dtype=float)
    s_idx = rng.choice(len(sur), size=n, p=w / w.sum())
    two = rng.random(n) < 0.62
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    return [sur[a] + GIVEN[b] + (GIVEN[c2] if t else "") for a, b, c2, t in zip(s_idx, g1, g2, two)]


def fake_phones(rng: np.random.Generator, n: int) -> list[str]:
    """Obviously fictional Datong numbers: 0352 (the area code) + a local part that starts
    with 0, which no real Chinese local number does."""
    nums = rng.choice(1_000_000, size=n, replace=False)
    return [f"0352-0{v:06d}" for v in nums]

