"""Which of the corpus's regions a question is about: ``detect_region(text) -> str | None``.

Returns the short name of a region that has a document (``南昌``, ``阳江``, ``云南``, ``江苏``, ``周口``) when
the text names it, its province (江西→南昌, 广东→阳江, 河南→周口) or a place inside it (a county of 周口, a
city of 江苏 or 云南, whose provincial documents apply there). The first place named wins. Places with no
document return ``None``; ``names_other_place`` tells those apart from questions that name no place at all.
"""

from __future__ import annotations

import re

from knowledge_base.tokenizer import normalize

REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "南昌": ("南昌", "江西", "赣", "进贤", "安义", "青山湖", "青云谱", "红谷滩"),
    "阳江": ("阳江", "广东", "粤", "阳西", "阳春", "阳东"),
    "云南": ("云南", "滇", "昆明", "曲靖", "玉溪", "保山", "昭通", "丽江", "普洱", "临沧", "楚雄", "红河", "文山",
             "西双版纳", "大理", "德宏", "怒江", "迪庆"),
    "江苏": ("江苏", "苏州", "南京", "无锡", "徐州", "常州", "南通", "连云港", "淮安", "盐城", "扬州", "镇江",
             "泰州", "宿迁"),
    "周口": ("周口", "河南", "豫", "项城", "扶沟", "西华", "商水", "沈丘", "郸城", "太康", "鹿邑", "淮阳", "川汇"),
}
# One-character abbreviations are only taken in the forms residents use them ("粤医保", "赣服通", "豫事办").
_ABBREVIATION_CONTEXT = re.compile(r"(赣|粤|滇|豫)(?=医保|服通|省事|事办|通办)")
_OTHER_PLACES = (
    "北京 天津 上海 重庆 河北 山西 内蒙古 辽宁 吉林 黑龙江 浙江 安徽 福建 山东 湖北 湖南 广西 海南 四川 贵州 西藏 陕西 甘肃 青海 宁夏 新疆 "
    "香港 澳门 台湾 石家庄 太原 沈阳 长春 哈尔滨 杭州 合肥 福州 厦门 济南 青岛 郑州 武汉 长沙 广州 深圳 南宁 成都 贵阳 拉萨 西安 兰州 "
    "西宁 银川 乌鲁木齐 呼和浩特 九江 赣州 洛阳 开封 商丘 东莞 佛山 珠海 宁波 温州 大连"
).split()

_PATTERN = re.compile(
    "|".join(
        sorted((re.escape(alias) for aliases in REGION_ALIASES.values() for alias in aliases if len(alias) > 1),
               key=len, reverse=True)
    )
)
_ALIAS_TO_REGION = {alias: region for region, aliases in REGION_ALIASES.items() for alias in aliases}
_OTHER_PATTERN = re.compile("|".join(sorted(map(re.escape, _OTHER_PLACES), key=len, reverse=True)))


def detect_region(text: str) -> str | None:
    """Text (a question, or a region name such as ``河南省``) in, the short name of the region it names out."""
    normalized = normalize(text or "")
    found = [(m.start(), _ALIAS_TO_REGION[m.group(0)]) for m in _PATTERN.finditer(normalized)]
    found += [(m.start(), _ALIAS_TO_REGION[m.group(1)]) for m in _ABBREVIATION_CONTEXT.finditer(normalized)]
    return min(found)[1] if found else None


def names_other_place(text: str) -> bool:
    """Whether the text names a province or city for which the corpus has no document."""
    return detect_region(text) is None and bool(_OTHER_PATTERN.search(normalize(text or "")))


def region_matches(document_region: str, short_name: str) -> bool:
    """Whether a document's region (``河南省周口市``) is the region ``short_name`` stands for."""
    return bool(document_region) and detect_region(document_region) == short_name
