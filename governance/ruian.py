"""The default index template: Yishi's reading of Rui'an's 强基善治指数, as data.

Rui'an (瑞安市) publishes the five dimensions of its index and the star rating of villages tied to
it; the eleven indicators below, their sources, floors, targets and weights are Yishi's choice of
what measures each dimension (docs/governance-index.md has the mapping and why). The names are the
township's words, stored in Chinese as user content: an index made from the template may rename,
reweigh, add or drop anything in a new version.

`floor` scores 0 and `target` scores 100, linearly between; a target below the floor means lower
is better. Weights are points out of 100: the dimensions' add up to 100 and each dimension's
indicators add up to its weight.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class IndicatorTemplate:
    code: str
    name: str
    weight: Decimal
    metric: str = ""  # a key of governance.metrics.METRICS; empty for an entered figure
    unit: str = ""
    floor: Decimal = Decimal(0)
    target: Decimal = Decimal(100)


@dataclass(frozen=True)
class DimensionTemplate:
    code: str
    name: str
    weight: Decimal
    indicators: tuple[IndicatorTemplate, ...]


@dataclass(frozen=True)
class IndexTemplate:
    key: str
    name: str
    description: str
    star_thresholds: tuple[Decimal, ...]
    dimensions: tuple[DimensionTemplate, ...]


def _d(text: str) -> Decimal:
    return Decimal(text)


RUIAN = IndexTemplate(
    key="ruian",
    name="强基善治指数",
    description=(
        "参照瑞安市强基善治指数的五个维度：共富发展、治理有序、生活宜居、党群连心、组织坚实。"
        "指标、权重和星级分数线为默认值，乡镇（街道）可以修改后发布新版本。"
    ),
    # 1 to 5 stars (星级) from these total scores: defaults the township may change.
    star_thresholds=(_d("60"), _d("70"), _d("78"), _d("85"), _d("90")),
    dimensions=(
        DimensionTemplate(
            "gongfu",
            "共富发展",
            _d("20"),
            (
                IndicatorTemplate(
                    "collective-income",
                    "村集体经济经营性收入增长",
                    _d("12"),
                    unit="%",
                    floor=_d("0"),
                    target=_d("10"),
                ),
                IndicatorTemplate(
                    "project-rating",
                    "民生实事项目群众评价",
                    _d("8"),
                    metric="project_rating",
                    unit="分",
                    floor=_d("3"),
                    target=_d("4.5"),
                ),
            ),
        ),
        DimensionTemplate(
            "zhili",
            "治理有序",
            _d("25"),
            (
                IndicatorTemplate(
                    "disclosure-on-time",
                    "三务公开及时率",
                    _d("10"),
                    metric="disclosure_on_time",
                    unit="%",
                    floor=_d("60"),
                    target=_d("100"),
                ),
                IndicatorTemplate(
                    "quorum-rate",
                    "村民代表会议规范召开率",
                    _d("8"),
                    metric="quorum_rate",
                    unit="%",
                    floor=_d("50"),
                    target=_d("100"),
                ),
                IndicatorTemplate(
                    "major-incidents",
                    "平安创建：重大安全事件",
                    _d("7"),
                    unit="起",
                    floor=_d("2"),
                    target=_d("0"),
                ),
            ),
        ),
        DimensionTemplate(
            "yiju",
            "生活宜居",
            _d("20"),
            (
                IndicatorTemplate(
                    "environment",
                    "人居环境整治考评得分",
                    _d("10"),
                    unit="分",
                    floor=_d("60"),
                    target=_d("95"),
                ),
                IndicatorTemplate(
                    "case-closure",
                    "群众诉求办结率",
                    _d("10"),
                    metric="case_closure",
                    unit="%",
                    floor=_d("60"),
                    target=_d("100"),
                ),
            ),
        ),
        DimensionTemplate(
            "dangqun",
            "党群连心",
            _d("20"),
            (
                IndicatorTemplate(
                    "questions-on-time",
                    "群众提问按时答复率",
                    _d("7"),
                    metric="questions_on_time",
                    unit="%",
                    floor=_d("50"),
                    target=_d("100"),
                ),
                IndicatorTemplate(
                    "topics-answered",
                    "议事议题回应率",
                    _d("6"),
                    metric="topics_answered",
                    unit="%",
                    floor=_d("40"),
                    target=_d("100"),
                ),
                IndicatorTemplate(
                    "case-satisfaction",
                    "群众满意度",
                    _d("7"),
                    metric="case_satisfaction",
                    unit="分",
                    floor=_d("3"),
                    target=_d("4.8"),
                ),
            ),
        ),
        DimensionTemplate(
            "zuzhi",
            "组织坚实",
            _d("15"),
            (
                IndicatorTemplate(
                    "party-stars",
                    "党组织星级评定",
                    _d("15"),
                    unit="星",
                    floor=_d("1"),
                    target=_d("5"),
                ),
            ),
        ),
    ),
)

TEMPLATES: dict[str, IndexTemplate] = {RUIAN.key: RUIAN}
