"""A deterministic demo world: institutions across China, demo users and their data assets.

Everything here is pure Python driven by ``random.Random(seed)``: the same seed and size give
the same institutions, codes, names and grades. Writing the world to the database is the
``seed_demo`` management command's business.

Demo institutions carry the marker ``HD`` at positions 9–10 of their unified social credit
code (``12330100HD0000017X``), so that ``seed_demo --reset`` can find and remove them.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from statistics import NormalDist

from accounts.choices import InstitutionType, RegionLevel, Role
from accounts.credit_code import check_character
from registry import numbers

from . import search
from .choices import (
    EXPECTED_UPDATE_INTERVAL,
    AssetStatus,
    CollectionMethod,
    DataCategory,
    DataFormat,
    DeidentificationState,
    OpenAttribute,
    Purpose,
    SecurityClass,
    SharingType,
    SourceSystem,
    UpdateFrequency,
)
from .rules import MAX_OPEN_GRADE, minimum_grade

DEMO_REASON = "演示数据生成"
DEMO_PASSWORD = "Demo@2026"  # noqa: S105 - the published password of the demo logins
DEMO_CREDIT_MARKER = "HD"  # positions 9–10 of a demo institution's credit code
# A regular expression (for ``credit_code__regex``) that matches demo institutions only.
DEMO_CREDIT_CODE_RE = r"^[0-9A-Y]{8}HD[0-9]{7}[0-9A-Y]$"
ELEMENT_ASSET_LIMIT = 20_000  # assets beyond this many get no data elements
INCONSISTENT_GRADE_SHARE = 0.035  # of assets whose categories imply grade >= 2
OVERDUE_SHARE = 0.10
ABROAD_SHARE = 0.005
# Registrations are dated inside this window (fixed, so that numbers do not drift with time).
REGISTRATION_WINDOW = (datetime(2023, 1, 1, tzinfo=UTC), datetime(2026, 6, 30, tzinfo=UTC))

IT = InstitutionType
C = DataCategory
F = UpdateFrequency
S = SourceSystem
M = CollectionMethod
P = Purpose
D = DataFormat

# --- Vocabulary --------------------------------------------------------------------------

PLACEHOLDER_CITIES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})


# Each province's best-known medical university (its hospitals are "…附属第一医院").
UNIVERSITIES = {
    "11": "首都医科大学", "12": "天津医科大学", "13": "河北医科大学", "14": "山西医科大学",
    "15": "内蒙古医科大学", "21": "中国医科大学", "22": "吉林大学", "23": "哈尔滨医科大学",
    "31": "复旦大学", "32": "南京医科大学", "33": "浙江大学医学院", "34": "安徽医科大学",
    "35": "福建医科大学", "36": "南昌大学", "37": "山东大学", "41": "郑州大学",
    "42": "武汉大学", "43": "中南大学湘雅医学院", "44": "中山大学", "45": "广西医科大学",
    "46": "海南医学院", "50": "重庆医科大学", "51": "四川大学", "52": "贵州医科大学",
    "53": "昆明医科大学", "54": "西藏大学", "61": "西安交通大学", "62": "兰州大学",
    "63": "青海大学", "64": "宁夏医科大学", "65": "新疆医科大学",
}

# Zhejiang and Hangzhou are always rich: the demo users work there.
ZHEJIANG = "330000"
HANGZHOU = "330100"
ZHEJIANG_EXTRAS = [
    # (name, type, region, weight)
    ("浙江大学医学院附属第一医院", IT.TERTIARY_HOSPITAL, "330102", 40.0),
    ("浙江大学医学院附属第二医院", IT.TERTIARY_HOSPITAL, "330102", 30.0),
    ("浙江大学医学院附属邵逸夫医院", IT.TERTIARY_HOSPITAL, "330102", 25.0),
    ("浙江大学医学院附属儿童医院", IT.TERTIARY_HOSPITAL, "330108", 15.0),
    ("浙江大学医学院附属妇产科医院", IT.TERTIARY_HOSPITAL, "330102", 12.0),
    ("浙江省中医院", IT.TERTIARY_HOSPITAL, "330102", 15.0),
    ("浙江省肿瘤医院", IT.TERTIARY_HOSPITAL, "330105", 15.0),
    ("浙江省医学科学院", IT.RESEARCH_INSTITUTE, "330106", 8.0),
    ("杭州市第一人民医院", IT.TERTIARY_HOSPITAL, "330102", 20.0),
    ("杭州市中医院", IT.TERTIARY_HOSPITAL, "330106", 12.0),
    ("杭州市妇产科医院", IT.TERTIARY_HOSPITAL, "330102", 8.0),
    ("杭州健康云数据科技有限公司", IT.ENTERPRISE, "330108", 6.0),
]
# Hangzhou districts and a county whose commissions, CDCs and centres are always present.
ZHEJIANG_COUNTIES = ["330102", "330105", "330106", "330108", "330109", "330110", "330127"]
CHUNAN = "330127"  # 淳安县: the county steward's county
CHUNAN_TOWNS = ["千岛湖", "文昌", "石林", "临岐", "威坪", "姜家"]

CITY_HOSPITALS = ["中心医院", "中医院", "妇幼保健院", "第二人民医院", "第三人民医院",
                  "儿童医院", "肿瘤医院", "传染病医院", "口腔医院", "精神卫生中心"]
COUNTY_HOSPITALS = ["中医院", "妇幼保健院", "第二人民医院", "中西医结合医院", "骨伤科医院"]
ENTERPRISE_BRANDS = ["康联", "智医", "健云", "仁和", "瑞康", "华卫", "安泰", "明德", "众康", "海纳",
                     "云医", "百川", "同心", "博远", "卓健", "启明", "正源", "恒康", "天衡", "睿智"]
ENTERPRISE_SUFFIXES = ["健康科技有限公司", "医疗信息技术有限公司", "互联网医院有限公司",
                       "医学检验实验室有限公司", "基因科技有限公司", "健康管理有限公司"]
RESEARCH_PATTERNS = ["{}医学研究所", "{}卫生健康信息中心", "{}肿瘤防治研究所", "{}预防医学研究院"]
PLACE_FIRST = (
    "东西南北新城长青白石河湖山松桥龙凤金银和兴安平永福宁"
    "康华阳清丰柳桃梅竹云岭江溪泉沙塘林田"
)
PLACE_SECOND = "关桥湖山河塘溪林岭坪口坝港湾埠集庄铺堡园门亭阳城安宁丰兴和水洲浦圩"

# Surnames and given-name characters with their pinyin, for responsible persons and emails.
SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"),
    ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"), ("郑", "zheng"),
    ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("许", "xu"),
    ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
    ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"),
    ("潘", "pan"), ("蒋", "jiang"), ("蔡", "cai"), ("余", "yu"), ("杜", "du"), ("叶", "ye"),
    ("程", "cheng"), ("苏", "su"), ("魏", "wei"), ("吕", "lv"), ("丁", "ding"), ("沈", "shen"),
    ("姚", "yao"), ("卢", "lu"), ("钟", "zhong"), ("方", "fang"), ("金", "jin"), ("陆", "lu"),
]
GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("霞", "xia"),
    ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"), ("建", "jian"),
    ("国", "guo"), ("文", "wen"), ("晓", "xiao"), ("红", "hong"), ("海", "hai"), ("燕", "yan"),
    ("玲", "ling"), ("鹏", "peng"), ("辉", "hui"), ("斌", "bin"), ("宇", "yu"), ("浩", "hao"),
    ("凯", "kai"), ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("颖", "ying"), ("思", "si"),
    ("佳", "jia"), ("欣", "xin"), ("怡", "yi"), ("嘉", "jia"), ("志", "zhi"), ("春", "chun"),
    ("梅", "mei"), ("波", "bo"), ("林", "lin"), ("亮", "liang"), ("慧", "hui"), ("瑞", "rui"),
]
AREA_CODES = {"11": "010", "12": "022", "31": "021", "50": "023", "3301": "0571",
              "3302": "0574", "3303": "0577", "4401": "020", "3201": "025", "5101": "028"}

SHARING_CONDITIONS = [
    "仅向承担公共卫生职能的政府部门提供，用于疾病监测与防控",
    "经本机构数据管理委员会审批，签订数据使用协议后在安全环境中使用",
    "用于经伦理审查批准的科研项目，数据去标识化后提供",
    "仅向卫生健康行政部门提供汇总统计结果，不提供个案明细",
    "经数据主体单独同意后，向其授权的医疗机构提供",
    "通过省全民健康信息平台按需调用，数据可用不可见",
    "向医保部门提供结算核对所需字段，按月对账",
    "在数据安全屋内使用，结果经审核后方可带出",
]
LEGAL_BASES = [
    "《中华人民共和国个人信息保护法》第二十八条（敏感个人信息）",
    "《中华人民共和国基本医疗卫生与健康促进法》第九十二条",
    "《中华人民共和国数据安全法》第二十一条（重要数据保护）",
    "《医疗机构病历管理规定》第六条",
    "《中华人民共和国传染病防治法》第十二条",
]
SPECIAL_LEGAL_BASES = {
    "hiv": "《艾滋病防治条例》第三十九条",
    "genome": "《中华人民共和国人类遗传资源管理条例》第七条",
    "mental": "《中华人民共和国精神卫生法》第四条",
}
ABROAD_LOCATIONS = [
    "AWS 亚太（新加坡）区域", "Azure 东亚（香港）区域", "境外合作方数据中心（新加坡）",
]


@dataclass(frozen=True)
class ElementSpec:
    name: str
    name_en: str
    data_type: str
    identifier: str = ""
    personal: bool = False


_E = ElementSpec
ELEMENTS = {e.name: e for e in [
    _E("患者姓名", "Patient name", "S", "DE02.01.039.00", True),
    _E("性别代码", "Sex code", "S", "DE02.01.040.00", True),
    _E("出生日期", "Date of birth", "D", "DE02.01.005.01", True),
    _E("身份证件类别代码", "ID document type code", "S", "DE02.01.031.00", True),
    _E("身份证件号码", "ID document number", "S", "DE02.01.030.00", True),
    _E("民族", "Ethnicity", "S", "DE02.01.025.00", True),
    _E("联系电话号码", "Phone number", "S", "DE02.01.010.00", True),
    _E("现住址", "Current address", "S", "DE02.01.009.01", True),
    _E("职业类别代码", "Occupation code", "S", "DE02.01.052.00", True),
    _E("门（急）诊号", "Outpatient number", "S", "DE01.00.010.00", True),
    _E("住院号", "Inpatient number", "S", "DE01.00.014.00", True),
    _E("健康档案编号", "Health record number", "S", "DE01.00.009.00", True),
    _E("就诊日期时间", "Visit date and time", "DT", "DE06.00.062.00"),
    _E("入院日期时间", "Admission date and time", "DT", "DE06.00.092.00"),
    _E("出院日期时间", "Discharge date and time", "DT", "DE06.00.017.00"),
    _E("疾病诊断编码", "Diagnosis code (ICD-10)", "S", "DE05.01.024.00"),
    _E("诊断名称", "Diagnosis", "S", "DE05.01.025.00"),
    _E("手术及操作编码", "Procedure code", "S", "DE06.00.093.00"),
    _E("医嘱项目内容", "Order content", "S", "DE06.00.288.00"),
    _E("检验项目代码", "Laboratory test code", "S", "DE04.30.019.00"),
    _E("检验结果", "Laboratory result", "S", "DE04.30.017.00"),
    _E("检查报告结果", "Examination findings", "S", "DE04.50.131.00"),
    _E("影像检查号", "Imaging study number", "S"),
    _E("病理号", "Pathology number", "S", "DE01.00.018.00"),
    _E("药物名称", "Drug name", "S", "DE08.50.022.00"),
    _E("药物使用剂量", "Dose", "N", "DE08.50.023.00"),
    _E("医疗费用总额", "Total cost", "N", "DE07.00.004.00"),
    _E("医保类型代码", "Insurance type code", "S", "DE07.00.007.00"),
    _E("个人自付金额", "Out-of-pocket amount", "N", "DE07.00.005.00"),
    _E("医保结算流水号", "Settlement number", "S"),
    _E("报告日期", "Report date", "D", "DE09.00.053.00"),
    _E("发病日期", "Onset date", "D", "DE05.01.058.00"),
    _E("传染病名称", "Notifiable disease", "S", "DE05.01.085.00"),
    _E("死亡日期", "Date of death", "D", "DE02.01.036.00", True),
    _E("根本死因", "Underlying cause of death", "S", "DE05.01.021.00"),
    _E("出生医学证明编号", "Birth certificate number", "S", "DE01.00.004.00", True),
    _E("新生儿出生体重", "Birth weight", "N", "DE04.10.019.00"),
    _E("疫苗名称", "Vaccine", "S", "DE08.50.046.00"),
    _E("接种日期", "Vaccination date", "D", "DE06.00.059.00"),
    _E("疫苗批号", "Vaccine lot number", "S", "DE08.50.059.00"),
    _E("接种剂次", "Dose number", "N"),
    _E("收缩压", "Systolic blood pressure", "N", "DE04.10.174.00"),
    _E("舒张压", "Diastolic blood pressure", "N", "DE04.10.176.00"),
    _E("空腹血糖值", "Fasting blood glucose", "N", "DE04.50.075.00"),
    _E("随访日期", "Follow-up date", "D", "DE06.00.115.00"),
    _E("心率", "Heart rate", "N", "DE04.10.206.00"),
    _E("机构名称", "Institution name", "S", "DE08.10.013.00"),
    _E("机构代码", "Institution code", "S", "DE08.10.052.00"),
    _E("床位数", "Beds", "N"),
    _E("设备名称", "Equipment", "S"),
    _E("设备购置日期", "Purchase date", "D"),
    _E("人员姓名", "Staff name", "S", "DE02.01.039.00", True),
    _E("专业技术职务类别代码", "Professional title code", "S", "DE08.30.038.00"),
    _E("执业证书编码", "Practice licence number", "S", "", True),
    _E("样本编号", "Sample number", "S"),
    _E("测序平台", "Sequencing platform", "S"),
    _E("基因变异位点", "Genetic variant", "S", "", True),
    _E("设备序列号", "Device serial number", "S"),
    _E("步数", "Steps", "N"),
    _E("统计年度", "Statistical year", "N"),
    _E("指标名称", "Indicator", "S"),
    _E("指标值", "Indicator value", "N"),
    _E("监测点名称", "Monitoring site", "S"),
    _E("采样日期", "Sampling date", "D", "DE06.00.221.00"),
    _E("检测结果是否合格", "Within limits", "L"),
    _E("签约日期", "Contract date", "D"),
    _E("签约医生姓名", "Contracted doctor", "S", "", True),
]}
PERSON = ("患者姓名", "性别代码", "出生日期", "身份证件号码")


@dataclass(frozen=True)
class AssetTemplate:
    """A kind of data asset an institution holds: name, classification, ledger defaults."""

    name: str
    name_en: str
    catalog_class: str
    categories: tuple[str, ...]
    grade: int
    sources: tuple[str, ...]
    methods: tuple[str, ...]
    purposes: tuple[str, ...]
    frequencies: tuple[str, ...]
    personal: bool
    records: int  # at a large tertiary hospital (scale 1.0)
    bytes_per_record: int
    holders: dict[str, float]  # institution type -> how often it holds one
    descriptions: tuple[str, ...]
    elements: tuple[str, ...]
    data_format: str = D.STRUCTURED
    records_per_person: float = 3.0
    since: int = 2010
    important: bool = False
    levels: frozenset[str] | None = None  # commission/CDC levels that hold it (None: all)
    special: str = ""  # key into SPECIAL_LEGAL_BASES


H3, H2, CHC, THC = IT.TERTIARY_HOSPITAL, IT.SECONDARY_HOSPITAL, IT.COMMUNITY_HEALTH_CENTRE, \
    IT.TOWNSHIP_HEALTH_CENTRE
CDC, COM, RES, ENT = IT.CDC, IT.HEALTH_COMMISSION, IT.RESEARCH_INSTITUTE, IT.ENTERPRISE
UPPER = frozenset({"national", "province", "city"})
_T = AssetTemplate

TEMPLATES = [
    # Medical services.
    _T("门诊诊疗记录", "Outpatient visit records", "0101",
       (C.MEDICAL_APPLICATION, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.HIS, S.EMR),
       (M.SYSTEM_GENERATED,), (P.CLINICAL_CARE, P.MANAGEMENT), (F.REALTIME, F.DAILY), True,
       3_000_000, 2_000, {H3: 10, H2: 10, CHC: 8, THC: 8, ENT: 1},
       ("本院门急诊患者的挂号、就诊、诊断与处置记录，包括主诉、现病史和门诊诊断。",
        "门诊电子病历与就诊流水，记录患者每次门诊就诊的科室、医生、诊断及处理意见。"),
       (*PERSON, "门（急）诊号", "就诊日期时间", "疾病诊断编码", "诊断名称", "联系电话号码"),
       records_per_person=4.0),
    _T("急诊抢救记录", "Emergency care records", "0101",
       (C.MEDICAL_APPLICATION, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.EMR,),
       (M.SYSTEM_GENERATED, M.MANUAL_ENTRY), (P.CLINICAL_CARE,), (F.REALTIME, F.DAILY), True,
       400_000, 6_000, {H3: 5, H2: 4},
       ("急诊预检分诊、抢救过程与留观记录，含生命体征和抢救用药。",),
       (*PERSON, "门（急）诊号", "就诊日期时间", "诊断名称", "心率", "药物名称"),
       records_per_person=1.5),
    _T("住院病案首页", "Inpatient discharge abstracts", "0102",
       (C.MEDICAL_APPLICATION, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.EMR, S.HIS),
       (M.SYSTEM_GENERATED,), (P.CLINICAL_CARE, P.MANAGEMENT, P.RESEARCH), (F.DAILY, F.MONTHLY),
       True, 300_000, 8_000, {H3: 10, H2: 8},
       ("住院患者病案首页，包括入出院信息、出院诊断、手术操作和费用，按国家病案首页规范填报。",
        "本院出院患者的病案首页数据，用于医院绩效考核和疾病诊断相关分组（DRG）。"),
       (*PERSON, "住院号", "入院日期时间", "出院日期时间", "疾病诊断编码", "手术及操作编码",
        "医疗费用总额"), records_per_person=1.3),
    _T("电子病历文书", "Electronic medical record documents", "0102",
       (C.MEDICAL_APPLICATION, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.EMR,),
       (M.SYSTEM_GENERATED, M.MANUAL_ENTRY), (P.CLINICAL_CARE, P.RESEARCH),
       (F.REALTIME, F.DAILY), True, 6_000_000, 20_000, {H3: 8, H2: 6},
       ("入院记录、病程记录、手术记录、出院小结等结构化与非结构化电子病历文书。",),
       (*PERSON, "住院号", "诊断名称", "医嘱项目内容"), data_format=D.DOCUMENT,
       records_per_person=20.0),
    _T("医嘱执行记录", "Medical orders", "0102",
       (C.MEDICAL_APPLICATION, C.PERSONAL_ATTRIBUTES), 3, (S.HIS,), (M.SYSTEM_GENERATED,),
       (P.CLINICAL_CARE, P.MANAGEMENT), (F.REALTIME,), True, 20_000_000, 600,
       {H3: 6, H2: 5}, ("住院与门诊医嘱的开立、审核、执行和停止记录。",),
       ("患者姓名", "住院号", "医嘱项目内容", "药物名称", "药物使用剂量"),
       records_per_person=60.0),
    _T("手术麻醉记录", "Surgery and anaesthesia records", "0102",
       (C.MEDICAL_APPLICATION, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.EMR, S.OTHER),
       (M.SYSTEM_GENERATED, M.DEVICE), (P.CLINICAL_CARE, P.RESEARCH), (F.DAILY,), True,
       80_000, 40_000, {H3: 5, H2: 3},
       ("手术安排、麻醉记录单、术中生命体征监测和手术安全核查记录。",),
       (*PERSON, "住院号", "手术及操作编码", "心率", "收缩压", "舒张压"), data_format=D.MIXED,
       records_per_person=1.1),
    _T("护理记录", "Nursing records", "0102", (C.MEDICAL_APPLICATION, C.HEALTH_STATUS), 3,
       (S.EMR,), (M.MANUAL_ENTRY, M.DEVICE), (P.CLINICAL_CARE,), (F.REALTIME,), True,
       8_000_000, 800, {H3: 4, H2: 4},
       ("护理评估、体征观察、护理措施与交接班记录。",),
       ("患者姓名", "住院号", "心率", "收缩压", "舒张压"), records_per_person=25.0),
    _T("检验结果数据", "Laboratory results", "0103", (C.HEALTH_STATUS, C.MEDICAL_APPLICATION),
       3, (S.LIS,), (M.DEVICE, M.SYSTEM_GENERATED), (P.CLINICAL_CARE, P.RESEARCH),
       (F.REALTIME, F.DAILY), True, 40_000_000, 400, {H3: 10, H2: 8, CHC: 3, THC: 2, ENT: 2},
       ("临床检验申请、标本、检验项目及结果，覆盖生化、免疫、血液、微生物等专业。",
        "检验科仪器自动采集的检验结果，经审核后发布至临床。"),
       ("患者姓名", "性别代码", "出生日期", "检验项目代码", "检验结果", "就诊日期时间"),
       records_per_person=30.0),
    _T("病理诊断报告", "Pathology reports", "0103",
       (C.HEALTH_STATUS, C.MEDICAL_APPLICATION, C.PERSONAL_ATTRIBUTES), 4, (S.LIS, S.OTHER),
       (M.MANUAL_ENTRY,), (P.CLINICAL_CARE, P.RESEARCH), (F.DAILY,), True, 150_000, 30_000,
       {H3: 5, H2: 2},
       ("组织病理、细胞病理和冰冻切片诊断报告，包含肿瘤分型、分级与免疫组化结果。",),
       (*PERSON, "病理号", "诊断名称", "检查报告结果"), data_format=D.DOCUMENT,
       records_per_person=1.2),
    _T("医学影像检查报告", "Imaging reports", "0104", (C.MEDICAL_APPLICATION, C.HEALTH_STATUS),
       3, (S.RIS, S.PACS), (M.MANUAL_ENTRY, M.SYSTEM_GENERATED), (P.CLINICAL_CARE,),
       (F.REALTIME, F.DAILY), True, 1_200_000, 5_000, {H3: 8, H2: 7, CHC: 1},
       ("CT、MRI、DR、超声等检查的影像所见与诊断意见。",),
       ("患者姓名", "性别代码", "影像检查号", "检查报告结果", "就诊日期时间"),
       data_format=D.DOCUMENT, records_per_person=2.0),
    _T("医学影像数据（DICOM）", "Medical images (DICOM)", "0104",
       (C.HEALTH_STATUS, C.MEDICAL_APPLICATION), 3, (S.PACS,), (M.DEVICE,),
       (P.CLINICAL_CARE, P.RESEARCH, P.TEACHING), (F.REALTIME,), True, 1_000_000, 60_000_000,
       {H3: 6, H2: 4}, ("医学影像设备产生的 DICOM 原始影像，按检查归档存储。",),
       ("影像检查号", "患者姓名", "设备名称"), data_format=D.IMAGE, records_per_person=2.0),
    _T("心电监测波形数据", "ECG waveforms", "0103", (C.HEALTH_STATUS,), 3,
       (S.WEARABLE_IOT, S.OTHER), (M.DEVICE,), (P.CLINICAL_CARE, P.RESEARCH), (F.REALTIME,),
       True, 500_000, 2_000_000, {H3: 3, H2: 2, ENT: 2},
       ("心电图机与床旁监护设备采集的心电波形及自动分析结果。",),
       ("患者姓名", "心率", "设备序列号", "就诊日期时间"), data_format=D.SIGNAL),
    _T("处方与用药记录", "Prescriptions", "0105",
       (C.MEDICAL_APPLICATION, C.PERSONAL_ATTRIBUTES), 3, (S.HIS,), (M.SYSTEM_GENERATED,),
       (P.CLINICAL_CARE, P.MANAGEMENT), (F.REALTIME, F.DAILY), True, 5_000_000, 500,
       {H3: 6, H2: 6, CHC: 5, THC: 5},
       ("门诊与住院处方、药师审方和发药记录，用于合理用药监测。",),
       ("患者姓名", "门（急）诊号", "药物名称", "药物使用剂量", "诊断名称"),
       records_per_person=5.0),
    _T("药品库存与采购台账", "Drug inventory and procurement", "0105",
       (C.HEALTH_RESOURCES,), 1, (S.HIS, S.OTHER), (M.SYSTEM_GENERATED,), (P.MANAGEMENT,),
       (F.DAILY, F.WEEKLY), False, 200_000, 300, {H3: 3, H2: 3, CHC: 2, THC: 2},
       ("药品目录、采购入库、库存和效期管理台账，不含患者信息。",),
       ("药物名称", "机构代码", "指标值")),
    _T("互联网诊疗记录", "Online consultation records", "0101",
       (C.MEDICAL_APPLICATION, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.HIS, S.OTHER),
       (M.SYSTEM_GENERATED,), (P.CLINICAL_CARE,), (F.REALTIME,), True, 300_000, 4_000,
       {H3: 3, ENT: 6}, ("互联网医院在线复诊、图文问诊与电子处方记录。",),
       (*PERSON, "就诊日期时间", "诊断名称", "药物名称"), records_per_person=2.5, since=2019),
    _T("健康体检数据", "Health check-up data", "0103",
       (C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.LIS, S.HIS), (M.SYSTEM_GENERATED,),
       (P.CLINICAL_CARE, P.MANAGEMENT), (F.DAILY,), True, 200_000, 50_000,
       {H3: 3, H2: 3, ENT: 4}, ("健康体检中心的体检登记、检查结果与总检结论。",),
       (*PERSON, "收缩压", "舒张压", "空腹血糖值", "检验结果"), records_per_person=1.5),
    # Medical payment.
    _T("医保结算明细", "Medical insurance settlement details", "0401",
       (C.MEDICAL_PAYMENT, C.PERSONAL_ATTRIBUTES), 4, (S.INSURANCE, S.HIS),
       (M.SYSTEM_GENERATED, M.EXCHANGE), (P.INSURANCE_PAYMENT, P.MANAGEMENT), (F.DAILY,), True,
       2_500_000, 1_200, {H3: 6, H2: 6, CHC: 4, THC: 4},
       ("与医保经办机构结算的明细数据，包括结算流水、医保类型、统筹支付与个人自付金额。",),
       ("患者姓名", "身份证件号码", "医保结算流水号", "医保类型代码", "医疗费用总额",
        "个人自付金额"), records_per_person=4.0),
    _T("住院费用清单", "Inpatient cost lists", "0402",
       (C.MEDICAL_PAYMENT, C.MEDICAL_APPLICATION), 3, (S.HIS,), (M.SYSTEM_GENERATED,),
       (P.INSURANCE_PAYMENT, P.MANAGEMENT), (F.DAILY,), True, 10_000_000, 300,
       {H3: 4, H2: 4}, ("住院患者每日费用清单，按收费项目明细列示。",),
       ("患者姓名", "住院号", "医疗费用总额", "个人自付金额"), records_per_person=30.0),
    _T("医疗服务价格与收费项目", "Medical service prices", "0402", (C.HEALTH_RESOURCES,), 1,
       (S.OTHER,), (M.MANUAL_ENTRY,), (P.MANAGEMENT,), (F.QUARTERLY, F.IRREGULAR), False,
       12_000, 500, {COM: 2, H3: 1, H2: 1}, ("公立医院医疗服务项目价格与收费标准目录。",),
       ("指标名称", "指标值", "机构名称"), levels=UPPER),
    # Health resources.
    _T("床位与设备台账", "Beds and equipment ledger", "0502", (C.HEALTH_RESOURCES,), 1,
       (S.OTHER, S.HIS), (M.MANUAL_ENTRY,), (P.MANAGEMENT,), (F.MONTHLY, F.QUARTERLY), False,
       20_000, 1_000, {H3: 4, H2: 4, CHC: 3, THC: 3, COM: 2},
       ("编制床位、实际开放床位和大型医用设备的配置、使用与维护台账。",),
       ("机构名称", "床位数", "设备名称", "设备购置日期")),
    _T("卫生人员信息", "Health personnel information", "0501",
       (C.HEALTH_RESOURCES, C.PERSONAL_ATTRIBUTES), 3, (S.OTHER,), (M.MANUAL_ENTRY,),
       (P.MANAGEMENT,), (F.QUARTERLY, F.SEMIANNUAL), True, 8_000, 2_000,
       {H3: 3, H2: 3, CHC: 2, THC: 2, CDC: 2, COM: 3},
       ("在岗卫生技术人员的执业资格、专业技术职务、科室与培训信息。",),
       ("人员姓名", "性别代码", "出生日期", "专业技术职务类别代码", "执业证书编码"),
       records_per_person=1.0),
    _T("医院运营指标", "Hospital operations indicators", "0503", (C.HEALTH_RESOURCES,), 2,
       (S.HIS, S.OTHER), (M.SYSTEM_GENERATED,), (P.MANAGEMENT,), (F.MONTHLY,), False,
       50_000, 500, {H3: 4, H2: 4},
       ("医院门急诊人次、出院人次、平均住院日、床位使用率等运营指标。",),
       ("统计年度", "指标名称", "指标值", "机构名称")),
    _T("医疗机构执业登记信息", "Licensed medical institutions register", "0501",
       (C.HEALTH_RESOURCES,), 1, (S.OTHER,), (M.MANUAL_ENTRY,), (P.MANAGEMENT,),
       (F.IRREGULAR, F.MONTHLY), False, 30_000, 2_000, {COM: 6},
       ("辖区内医疗机构的执业登记、校验、变更与注销信息，可向社会公开。",),
       ("机构名称", "机构代码", "床位数")),
    _T("卫生健康统计年报", "Health statistics yearbook data", "0503",
       (C.HEALTH_RESOURCES, C.PUBLIC_HEALTH), 2, (S.SURVEY,), (M.SURVEY, M.EXCHANGE),
       (P.MANAGEMENT, P.PUBLIC_HEALTH), (F.YEARLY,), False, 100_000, 500, {COM: 6, CDC: 1},
       ("辖区卫生资源、医疗服务和居民健康水平的年度统计汇总数据。",),
       ("统计年度", "指标名称", "指标值"), since=2005),
    _T("全民健康信息平台汇聚数据", "Regional health platform data", "0301",
       (C.MEDICAL_APPLICATION, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.OTHER,),
       (M.EXCHANGE,), (P.MANAGEMENT, P.PUBLIC_HEALTH, P.CLINICAL_CARE), (F.DAILY,), True,
       30_000_000, 4_000, {COM: 4},
       ("全民健康信息平台从辖区医疗机构汇聚的诊疗、检验检查和健康档案数据，支持互联互通与业务协同。",),
       (*PERSON, "机构代码", "就诊日期时间", "疾病诊断编码"), levels=UPPER,
       records_per_person=10.0, important=True, since=2016),
    # Public health.
    _T("传染病报告卡", "Notifiable disease report cards", "0201",
       (C.PUBLIC_HEALTH, C.PERSONAL_ATTRIBUTES, C.HEALTH_STATUS), 4,
       (S.PUBLIC_HEALTH_REPORTING,), (M.MANUAL_ENTRY, M.SYSTEM_GENERATED), (P.PUBLIC_HEALTH,),
       (F.REALTIME,), True, 30_000, 3_000, {CDC: 8, H3: 3, H2: 3, CHC: 1, THC: 1},
       ("法定传染病病例报告卡，包括病例基本信息、发病与诊断日期、传染病名称及审核状态。",),
       (*PERSON, "传染病名称", "发病日期", "报告日期", "现住址"), records_per_person=1.0),
    _T("艾滋病随访管理数据", "HIV follow-up data", "0201",
       (C.PUBLIC_HEALTH, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 5,
       (S.PUBLIC_HEALTH_REPORTING,), (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH,), (F.MONTHLY,), True,
       5_000, 5_000, {CDC: 2, H3: 0.3}, ("艾滋病病毒感染者和病人的随访、检测与抗病毒治疗信息。",),
       (*PERSON, "随访日期", "检验结果", "药物名称"), records_per_person=6.0, special="hiv"),
    _T("突发公共卫生事件报告", "Public health emergency reports", "0201", (C.PUBLIC_HEALTH,), 2,
       (S.PUBLIC_HEALTH_REPORTING,), (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH, P.MANAGEMENT),
       (F.IRREGULAR,), False, 500, 20_000, {CDC: 4, COM: 2},
       ("突发公共卫生事件的初次、进程和结案报告，含事件分级与处置情况。",),
       ("报告日期", "指标名称", "监测点名称")),
    _T("肿瘤登记数据", "Cancer registry data", "0202",
       (C.PUBLIC_HEALTH, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4,
       (S.SURVEY, S.PUBLIC_HEALTH_REPORTING), (M.EXCHANGE, M.MANUAL_ENTRY),
       (P.PUBLIC_HEALTH, P.RESEARCH), (F.QUARTERLY, F.YEARLY), True, 20_000, 3_000,
       {CDC: 2, H3: 0.6}, ("恶性肿瘤新发病例登记、随访与死亡信息，用于肿瘤发病率和生存率分析。",),
       (*PERSON, "疾病诊断编码", "病理号", "随访日期", "死亡日期"), records_per_person=1.5),
    _T("慢性病随访记录", "Chronic disease follow-up records", "0202",
       (C.PUBLIC_HEALTH, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.HEALTH_RECORDS,),
       (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH, P.CLINICAL_CARE), (F.DAILY, F.MONTHLY), True,
       600_000, 1_000, {CHC: 8, THC: 8, CDC: 2},
       ("高血压、2型糖尿病等慢性病患者的规范化随访记录，含血压、血糖和用药情况。",),
       ("患者姓名", "健康档案编号", "随访日期", "收缩压", "舒张压", "空腹血糖值", "药物名称"),
       records_per_person=4.0),
    _T("慢性病及其危险因素监测数据", "Chronic disease risk factor surveillance", "0202",
       (C.PUBLIC_HEALTH, C.HEALTH_STATUS), 3, (S.SURVEY,), (M.SURVEY,),
       (P.PUBLIC_HEALTH, P.RESEARCH), (F.YEARLY, F.IRREGULAR), True, 30_000, 5_000,
       {CDC: 3, RES: 4}, ("居民慢性病及其危险因素抽样调查的问卷、体格测量和实验室检测数据。",),
       ("性别代码", "出生日期", "收缩压", "舒张压", "空腹血糖值"), records_per_person=1.0,
       since=2013),
    _T("出生医学证明", "Birth certificates", "0205", (C.PUBLIC_HEALTH, C.PERSONAL_ATTRIBUTES), 4,
       (S.PUBLIC_HEALTH_REPORTING, S.OTHER), (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH, P.MANAGEMENT),
       (F.DAILY,), True, 20_000, 2_000, {H3: 2, H2: 3, COM: 2},
       ("出生医学证明的签发、补发和换发记录，含新生儿及父母信息。",),
       ("出生医学证明编号", "性别代码", "出生日期", "新生儿出生体重", "身份证件号码"),
       records_per_person=1.0),
    _T("死亡医学证明", "Death certificates", "0205",
       (C.PUBLIC_HEALTH, C.PERSONAL_ATTRIBUTES, C.HEALTH_STATUS), 4,
       (S.PUBLIC_HEALTH_REPORTING,), (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH, P.MANAGEMENT),
       (F.DAILY, F.MONTHLY), True, 8_000, 2_000, {H3: 2, H2: 2, CDC: 4, CHC: 1, THC: 1},
       ("居民死亡医学证明（推断）书及死因监测报告，按国际疾病分类编码根本死因。",),
       ("患者姓名", "身份证件号码", "死亡日期", "根本死因", "现住址"), records_per_person=1.0),
    _T("孕产妇保健档案", "Maternal health records", "0203",
       (C.PUBLIC_HEALTH, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.HEALTH_RECORDS, S.EMR),
       (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH, P.CLINICAL_CARE), (F.DAILY,), True, 60_000, 6_000,
       {H3: 2, H2: 3, CHC: 3, THC: 3},
       ("孕产妇建册、产前检查、分娩和产后访视记录，含高危妊娠管理信息。",),
       ("患者姓名", "出生日期", "健康档案编号", "随访日期", "诊断名称"), records_per_person=8.0),
    _T("儿童健康体检记录", "Child health check records", "0203",
       (C.PUBLIC_HEALTH, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.HEALTH_RECORDS,),
       (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH,), (F.DAILY,), True, 80_000, 3_000,
       {CHC: 4, THC: 4, H2: 1},
       ("0–6岁儿童健康管理与体格检查记录，含生长发育评价。",),
       ("患者姓名", "性别代码", "出生日期", "健康档案编号", "随访日期"), records_per_person=6.0),
    _T("预防接种记录", "Immunisation records", "0204", (C.PUBLIC_HEALTH, C.PERSONAL_ATTRIBUTES),
       3, (S.PUBLIC_HEALTH_REPORTING, S.HEALTH_RECORDS), (M.SYSTEM_GENERATED, M.MANUAL_ENTRY),
       (P.PUBLIC_HEALTH,), (F.REALTIME, F.DAILY), True, 300_000, 800,
       {CHC: 6, THC: 6, CDC: 3},
       ("儿童和成人预防接种个案信息，包括疫苗名称、批号、接种日期和剂次。",),
       ("患者姓名", "出生日期", "疫苗名称", "疫苗批号", "接种日期", "接种剂次"),
       records_per_person=8.0),
    _T("疫苗出入库台账", "Vaccine stock ledger", "0204", (C.HEALTH_RESOURCES, C.PUBLIC_HEALTH), 2,
       (S.OTHER,), (M.SYSTEM_GENERATED,), (P.PUBLIC_HEALTH, P.MANAGEMENT), (F.DAILY,), False,
       50_000, 400, {CDC: 3, CHC: 2, THC: 2},
       ("疫苗采购、冷链运输、出入库与库存追溯台账。",), ("疫苗名称", "疫苗批号", "指标值")),
    _T("职业健康检查数据", "Occupational health examinations", "0206",
       (C.PUBLIC_HEALTH, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.HIS, S.SURVEY),
       (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH, P.MANAGEMENT), (F.MONTHLY,), True, 40_000, 4_000,
       {CDC: 2, H2: 1, ENT: 1},
       ("接触职业病危害因素劳动者的上岗前、在岗期间和离岗时职业健康检查结果。",),
       ("患者姓名", "身份证件号码", "职业类别代码", "检验结果", "诊断名称"),
       records_per_person=2.0),
    _T("生活饮用水卫生监测数据", "Drinking water monitoring", "0206", (C.PUBLIC_HEALTH,), 2,
       (S.SURVEY, S.WEARABLE_IOT), (M.DEVICE, M.MANUAL_ENTRY), (P.PUBLIC_HEALTH,),
       (F.MONTHLY, F.QUARTERLY), False, 20_000, 300, {CDC: 4},
       ("城乡生活饮用水监测点的水质采样与检测结果。",),
       ("监测点名称", "采样日期", "指标名称", "指标值", "检测结果是否合格")),
    _T("环境健康危害因素监测数据", "Environmental health hazard monitoring", "0206",
       (C.PUBLIC_HEALTH,), 1, (S.WEARABLE_IOT, S.SURVEY), (M.DEVICE,), (P.PUBLIC_HEALTH,),
       (F.DAILY, F.MONTHLY), False, 100_000, 200, {CDC: 3},
       ("空气污染、高温热浪等环境因素与健康效应的监测数据。",),
       ("监测点名称", "采样日期", "指标名称", "指标值")),
    # Health records.
    _T("居民电子健康档案", "Resident electronic health records", "0301",
       (C.PERSONAL_ATTRIBUTES, C.HEALTH_STATUS, C.PUBLIC_HEALTH), 4, (S.HEALTH_RECORDS,),
       (M.MANUAL_ENTRY, M.EXCHANGE), (P.PUBLIC_HEALTH, P.CLINICAL_CARE, P.MANAGEMENT),
       (F.DAILY,), True, 2_000_000, 10_000, {CHC: 10, THC: 10, COM: 3},
       ("辖区常住居民的电子健康档案，包括个人基本信息、健康体检、重点人群健康管理和就诊摘要。",
        "居民健康档案个人基本信息表与健康体检表，按国家基本公共卫生服务规范建立。"),
       (*PERSON, "健康档案编号", "现住址", "联系电话号码", "民族", "职业类别代码"),
       records_per_person=1.05, since=2009),
    _T("家庭医生签约服务记录", "Family doctor contracts", "0302",
       (C.PERSONAL_ATTRIBUTES, C.MEDICAL_APPLICATION), 3, (S.HEALTH_RECORDS,),
       (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH, P.MANAGEMENT), (F.DAILY, F.WEEKLY), True,
       300_000, 1_500, {CHC: 6, THC: 5},
       ("家庭医生团队签约居民名单、服务包与履约记录。",),
       ("患者姓名", "健康档案编号", "签约日期", "签约医生姓名"), records_per_person=1.2,
       since=2016),
    # Research.
    _T("临床研究队列数据", "Clinical research cohort data", "0601",
       (C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES, C.MEDICAL_APPLICATION), 4, (S.SURVEY, S.EMR),
       (M.SURVEY, M.EXCHANGE), (P.RESEARCH,), (F.IRREGULAR, F.QUARTERLY), True, 50_000,
       20_000, {H3: 2, RES: 6},
       ("经伦理委员会批准的前瞻性队列研究数据，含基线调查、随访结局和生物样本关联信息。",
        "专病临床研究数据库，整合电子病历、检验检查和随访数据。"),
       ("患者姓名", "性别代码", "出生日期", "诊断名称", "随访日期", "样本编号"),
       records_per_person=5.0, since=2015),
    _T("基因测序数据", "Genome sequencing data", "0602", (C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES),
       5, (S.OTHER,), (M.DEVICE,), (P.RESEARCH, P.CLINICAL_CARE), (F.IRREGULAR,), True, 20_000,
       100_000_000, {H3: 1, RES: 4, ENT: 3},
       ("全外显子组与全基因组测序原始数据及变异检测结果，属人类遗传资源信息。",),
       ("样本编号", "测序平台", "基因变异位点", "性别代码", "出生日期"), data_format=D.MIXED,
       records_per_person=1.0, important=True, since=2016, special="genome"),
    _T("生物样本库信息", "Biobank sample information", "0602",
       (C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.OTHER, S.SURVEY), (M.MANUAL_ENTRY,),
       (P.RESEARCH,), (F.WEEKLY, F.MONTHLY), True, 200_000, 1_000, {H3: 1, RES: 3},
       ("血液、组织等生物样本的采集、存储位置与质控信息。",),
       ("样本编号", "采样日期", "诊断名称", "性别代码"), records_per_person=4.0),
    _T("精神障碍患者管理数据", "Severe mental disorder management", "0202",
       (C.PUBLIC_HEALTH, C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 5, (S.HEALTH_RECORDS,),
       (M.MANUAL_ENTRY,), (P.PUBLIC_HEALTH,), (F.MONTHLY,), True, 20_000, 2_000,
       {CHC: 1, THC: 1, CDC: 1}, ("严重精神障碍患者的登记、随访与服药情况。",),
       ("患者姓名", "身份证件号码", "随访日期", "诊断名称", "药物名称"),
       records_per_person=6.0, special="mental"),
    # Enterprises.
    _T("可穿戴设备健康监测数据", "Wearable health monitoring data", "0202",
       (C.HEALTH_STATUS, C.PERSONAL_ATTRIBUTES), 4, (S.WEARABLE_IOT,), (M.DEVICE,),
       (P.CLINICAL_CARE, P.RESEARCH), (F.REALTIME,), True, 50_000_000, 200, {ENT: 6},
       ("智能手环、血压计、血糖仪等设备上传的心率、血压、血糖和运动数据。",),
       ("设备序列号", "心率", "收缩压", "舒张压", "空腹血糖值", "步数"), data_format=D.SIGNAL,
       records_per_person=500.0, since=2018),
]

TEMPLATE_INDEX = {template.name: i for i, template in enumerate(TEMPLATES)}

# --- Regions and institutions ---------------------------------------------------------


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    parent: str | None
    province: str
    city: str | None


@dataclass
class InstitutionSpec:
    """An institution of the demo world, before it has a database id."""

    index: int
    name: str
    type: str
    region: str | None
    parent: int | None
    credit_code: str
    level: str  # national, province, city or county: where it sits in the hierarchy
    weight: float  # how many assets it holds, relative to others
    scale: float  # how large its assets are, relative to a tertiary hospital's
    coverage: str | None  # spatial coverage of its assets (region code; None: nationwide)
    abbr: str  # registration prefix
    domain: str  # e-mail domain of its staff
    city_short: str = ""


@dataclass
class World:
    """The planned institutions and the lookup tables the asset factory needs."""

    institutions: list[InstitutionSpec]
    regions: dict[str, RegionRow]
    by_name: dict[str, InstitutionSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {inst.name: inst for inst in self.institutions}


def short_name(name: str) -> str:
    """浙江省 → 浙江, 广西壮族自治区 → 广西, 杭州市 → 杭州, 湘西土家族苗族自治州 → 湘西."""
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市", "地区", "盟"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    if "自治州" in name:
        return name[:2]
    return name


LEVEL_WEIGHTS = {
    IT.HEALTH_COMMISSION: {"national": 30, "province": 12, "city": 5, "county": 2},
    IT.CDC: {"national": 20, "province": 10, "city": 4, "county": 2},
}
TYPE_WEIGHTS = {
    IT.TERTIARY_HOSPITAL: 10, IT.SECONDARY_HOSPITAL: 4, IT.PRIMARY_HOSPITAL: 2,
    IT.COMMUNITY_HEALTH_CENTRE: 1.2, IT.TOWNSHIP_HEALTH_CENTRE: 1.0,
    IT.RESEARCH_INSTITUTE: 4, IT.ENTERPRISE: 2,
}
LEVEL_SCALES = {
    IT.HEALTH_COMMISSION: {"national": 100, "province": 10, "city": 2, "county": 0.3},
    IT.CDC: {"national": 40, "province": 5, "city": 1, "county": 0.2},
}
TYPE_SCALES = {
    IT.TERTIARY_HOSPITAL: 1.0, IT.SECONDARY_HOSPITAL: 0.25, IT.PRIMARY_HOSPITAL: 0.08,
    IT.COMMUNITY_HEALTH_CENTRE: 0.03, IT.TOWNSHIP_HEALTH_CENTRE: 0.02,
    IT.RESEARCH_INSTITUTE: 0.3, IT.ENTERPRISE: 0.5,
}
DOMAIN_PREFIX = {
    IT.HEALTH_COMMISSION: "wjw", IT.CDC: "cdc", IT.TERTIARY_HOSPITAL: "yy",
    IT.SECONDARY_HOSPITAL: "yy", IT.PRIMARY_HOSPITAL: "yy", IT.COMMUNITY_HEALTH_CENTRE: "sq",
    IT.TOWNSHIP_HEALTH_CENTRE: "wsy", IT.RESEARCH_INSTITUTE: "yjs", IT.ENTERPRISE: "corp",
}


class _Planner:
    """Adds institutions one by one, keeping names and credit codes unique."""

    def __init__(self, regions: dict[str, RegionRow], rng: random.Random):
        self.regions = regions
        self.rng = rng
        self.specs: list[InstitutionSpec] = []
        self.names: set[str] = set()
        self.commissions: dict[str | None, int] = {}  # jurisdiction region -> commission
        self.cdcs: dict[str | None, int] = {}
        self.used: dict[str, set[str]] = defaultdict(set)  # region -> name stems used there
        self.children: dict[str, list[str]] = defaultdict(list)
        for code, row in sorted(regions.items()):
            if row.parent:
                self.children[row.parent].append(code)

    # Names of places.
    def city_name(self, city_code: str) -> str:
        city = self.regions[city_code]
        return self.regions[city.province].name if city.name in PLACEHOLDER_CITIES else city.name

    def county_name(self, county_code: str, *, full: bool = True) -> str:
        county = self.regions[county_code]
        if full and county.name.endswith("区") and county.city:
            return self.city_name(county.city) + county.name
        return county.name

    def supervisor(self, region_code: str | None) -> int | None:
        """The nearest commission above or at ``region_code``."""
        while region_code is not None:
            if region_code in self.commissions:
                return self.commissions[region_code]
            region_code = self.regions[region_code].parent
        return self.commissions.get(None)

    def add(
        self, name: str, type_: str, region: str | None, *, level: str,
        parent: int | None = None, weight: float | None = None, coverage: str | None = "",
    ) -> int | None:
        if name in self.names:
            return None
        self.names.add(name)
        index = len(self.specs)
        authority = {IT.HEALTH_COMMISSION: "11", IT.ENTERPRISE: "91"}.get(type_, "12")
        body = f"{authority}{region or '100000'}{DEMO_CREDIT_MARKER}{index + 1:07d}"
        province = self.regions[region].province if region else None
        if weight is None:
            weight = LEVEL_WEIGHTS.get(type_, {}).get(level) or TYPE_WEIGHTS[type_]
            if province == ZHEJIANG:
                weight *= 3.0
                if self.regions[region].city == HANGZHOU:
                    weight *= 1.5
        scale = LEVEL_SCALES.get(type_, {}).get(level) or TYPE_SCALES[type_]
        if coverage == "":
            coverage = self._coverage(region, type_)
        abbr = numbers.prefix_for(province)
        city = self.regions[region].city if region else None
        self.specs.append(InstitutionSpec(
            index=index, name=name, type=type_, region=region,
            parent=parent if parent is not None else self.supervisor(region),
            credit_code=body + check_character(body), level=level, weight=weight, scale=scale,
            coverage=coverage, abbr=abbr,
            domain=f"{DOMAIN_PREFIX[type_]}{index + 1:05d}.{abbr.lower()}.example.cn",
            city_short=short_name(self.city_name(city)) if city else "",
        ))
        return index

    def _coverage(self, region: str | None, type_: str) -> str | None:
        if region is None:
            return None
        row = self.regions[region]
        if type_ in (IT.TERTIARY_HOSPITAL, IT.ENTERPRISE, IT.RESEARCH_INSTITUTE):
            return row.city or row.province
        return region

    def commission(self, region: str | None, name: str, level: str) -> int | None:
        index = self.add(name, IT.HEALTH_COMMISSION, region, level=level,
                         parent=self.supervisor(self.regions[region].parent) if region else None)
        if index is not None:
            self.commissions[region] = index
        return index

    def cdc(self, region: str | None, name: str, level: str, *, seat: str | None = None):
        index = self.add(name, IT.CDC, seat or region, level=level,
                         parent=self.supervisor(region), coverage=region)
        if index is not None:
            self.cdcs[region] = index
        return index

    # Units: what a province, city or county has at the least.
    def province_unit(self, province: str) -> None:
        name = self.regions[province].name
        self.commission(province, f"{name}卫生健康委员会", "province")
        self.cdc(province, f"{name}疾病预防控制中心", "province")
        self.add(f"{name}人民医院", IT.TERTIARY_HOSPITAL, self.capital_district(province),
                 level="province", parent=self.commissions[province])

    def province_extras(self, province: str) -> None:
        name, prefix = self.regions[province].name, province[:2]
        seat = self.capital_district(province)
        parent = self.commissions[province]
        university = UNIVERSITIES[prefix]
        for stem in ("附属第一医院", "附属第二医院"):
            self.add(university + stem, IT.TERTIARY_HOSPITAL, seat, level="province",
                     parent=parent, weight=15.0 * (3.0 if province == ZHEJIANG else 1.0))
        for stem in ("中医院", "肿瘤医院", "妇幼保健院", "儿童医院"):
            self.add(name + stem, IT.TERTIARY_HOSPITAL, seat, level="province", parent=parent)
        self.add(f"{name}医学科学院", IT.RESEARCH_INSTITUTE, seat, level="province",
                 parent=parent)
        self.add(f"{name}卫生健康信息中心", IT.RESEARCH_INSTITUTE, seat, level="province",
                 parent=parent)

    def city_unit(self, city: str) -> None:
        name = self.city_name(city)
        if self.regions[city].name not in PLACEHOLDER_CITIES:
            self.commission(city, f"{name}卫生健康委员会", "city")
            self.cdc(city, f"{name}疾病预防控制中心", "city")
        seat = self.first_county(city) or city
        self.add(f"{name}第一人民医院", IT.TERTIARY_HOSPITAL, seat, level="city",
                 parent=self.supervisor(city))

    def county_unit(self, county: str) -> None:
        row = self.regions[county]
        name = self.county_name(county)
        direct = row.parent is None or self.regions[row.parent].name in PLACEHOLDER_CITIES
        office = "卫生健康委员会" if direct and row.province in MUNICIPALITIES else "卫生健康局"
        self.commission(county, name + office, "county")
        self.cdc(county, f"{name}疾病预防控制中心", "county")
        self.add(f"{name}人民医院", IT.SECONDARY_HOSPITAL, county, level="county")

    def capital_district(self, province: str) -> str:
        cities = self.cities_of(province)
        return (self.first_county(cities[0]) or cities[0]) if cities else province

    def cities_of(self, province: str) -> list[str]:
        return self.children[province]

    def first_county(self, city: str) -> str | None:
        counties = self.children[city]
        return counties[0] if counties else None

    # Filling: the many small institutions.
    def place(self, county: str) -> str:
        used = self.used[county]
        for _attempt in range(50):
            stem = self.rng.choice(PLACE_FIRST) + self.rng.choice(PLACE_SECOND)
            if stem not in used:
                used.add(stem)
                return stem
        return f"第{len(used) + 1}"

    def community_centre(self, county: str) -> None:
        self.add(f"{self.county_name(county, full=False)}{self.place(county)}街道社区卫生服务中心",
                 IT.COMMUNITY_HEALTH_CENTRE, county, level="county")

    def township_centre(self, county: str, town: str | None = None) -> None:
        kind = "镇" if town else "乡" if self.rng.random() < 0.25 else "镇"
        town = town or self.place(county)
        self.add(f"{self.county_name(county, full=False)}{town}{kind}卫生院",
                 IT.TOWNSHIP_HEALTH_CENTRE, county, level="county")

    def county_hospital(self, county: str) -> bool:
        name = self.county_name(county)
        for stem in COUNTY_HOSPITALS:
            if name + stem not in self.names:
                self.add(name + stem, IT.SECONDARY_HOSPITAL, county, level="county")
                return True
        return False

    def city_hospital(self, city: str) -> bool:
        name = self.city_name(city)
        seat = self.first_county(city) or city
        for stem in CITY_HOSPITALS:
            if name + stem not in self.names:
                self.add(name + stem, IT.TERTIARY_HOSPITAL, seat, level="city",
                         parent=self.supervisor(city))
                return True
        return False

    def enterprise(self, county: str) -> None:
        city = self.regions[county].city or county
        short = short_name(self.city_name(city))
        name = short + self.rng.choice(ENTERPRISE_BRANDS) + self.rng.choice(ENTERPRISE_SUFFIXES)
        self.add(name, IT.ENTERPRISE, county, level="city")

    def research(self, county: str) -> None:
        city = self.regions[county].city or county
        pattern = self.rng.choice(RESEARCH_PATTERNS)
        self.add(pattern.format(self.city_name(city)), IT.RESEARCH_INSTITUTE, county, level="city")


def _skip_county(row: RegionRow) -> bool:
    """Development zones and uninhabited islands have no health commission of their own."""
    return row.code[4] == "7" or row.name.endswith(("群岛", "海域", "管委会", "委员会"))


def plan_institutions(regions: list[RegionRow], assets: int, seed: int) -> World:
    """The institutions of a world with ``assets`` assets: about one per 25 assets, never
    fewer than a commission, a CDC and a hospital in every province."""
    rng = random.Random(f"{seed}:institutions")  # noqa: S311 - reproducible, not secret
    by_code = {r.code: r for r in regions}
    plan = _Planner(by_code, rng)
    target = assets // 25

    # The core: the national level, every province, and the Zhejiang the demo users know.
    plan.commission(None, "国家卫生健康委员会", "national")
    plan.cdc(None, "中国疾病预防控制中心", "national", seat="110114")
    plan.add("中国医学科学院", IT.RESEARCH_INSTITUTE, "110101", level="national",
             coverage=None)
    plan.add("国家癌症中心", IT.RESEARCH_INSTITUTE, "110105", level="national", coverage=None)
    plan.add("国家卫生健康委统计信息中心", IT.RESEARCH_INSTITUTE, "110102", level="national",
             coverage=None)
    provinces = sorted(c for c, r in by_code.items() if r.level == RegionLevel.PROVINCE)
    for province in provinces:
        plan.province_unit(province)
    for city in plan.cities_of(ZHEJIANG):
        plan.city_unit(city)
    for county in ZHEJIANG_COUNTIES:
        plan.county_unit(county)
    for name, type_, region, weight in ZHEJIANG_EXTRAS:
        provincial = name.startswith("浙江")
        plan.add(name, type_, region, level="province" if provincial else "city", weight=weight,
                 parent=plan.commissions[ZHEJIANG if provincial else HANGZHOU])
    for county in ZHEJIANG_COUNTIES[:-1]:
        plan.community_centre(county)
        plan.community_centre(county)
    for town in CHUNAN_TOWNS:
        plan.township_centre(CHUNAN, town)
    plan.add("淳安县中医院", IT.SECONDARY_HOSPITAL, CHUNAN, level="county")

    def zhejiang_first(codes: list[str]) -> list[str]:
        codes = sorted(codes)
        rng.shuffle(codes)
        return sorted(codes, key=lambda code: not code.startswith("33"))

    # Layers, each taken as far as the budget allows: Zhejiang's part first.
    layers = [
        (plan.province_extras, zhejiang_first(provinces)),
        (plan.city_unit, zhejiang_first(
            [c for c, r in by_code.items() if r.level == RegionLevel.CITY])),
        (plan.county_unit, zhejiang_first(
            [c for c, r in by_code.items() if r.level == RegionLevel.COUNTY
             and not _skip_county(r)])),
    ]
    for add_unit, codes in layers:
        for code in codes:
            if len(plan.specs) >= target:
                break
            add_unit(code)

    # The rest: centres, county and city hospitals, enterprises and institutes.
    counties = sorted(c for c in plan.commissions if c and by_code[c].level == RegionLevel.COUNTY)
    districts = [c for c in counties if by_code[c].name.endswith("区")]
    rural = [c for c in counties if not by_code[c].name.endswith("区")] or districts
    cities = sorted(c for c, r in by_code.items() if r.level == RegionLevel.CITY)
    kinds = ["community", "township", "county_hospital", "city_hospital", "enterprise",
             "research"]
    kind_weights = [34, 36, 15, 6, 6, 3]
    stalled = 0
    while counties and len(plan.specs) < target and stalled < 1000:
        before = len(plan.specs)
        kind = rng.choices(kinds, kind_weights)[0]
        if kind == "community":
            plan.community_centre(rng.choice(districts or rural))
        elif kind == "township":
            plan.township_centre(rng.choice(rural))
        elif kind == "county_hospital":
            plan.county_hospital(rng.choice(counties))
        elif kind == "city_hospital":
            plan.city_hospital(rng.choice(cities))
        elif kind == "enterprise":
            plan.enterprise(rng.choice(counties))
        else:
            plan.research(rng.choice(counties))
        stalled = stalled + 1 if len(plan.specs) == before else 0
    return World(plan.specs, by_code)


# --- Demo users ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str | None
    institution: str | None
    is_staff: bool = False
    is_superuser: bool = False


DEMO_USERS = [
    DemoUser("admin", "王立新", None, None, is_staff=True, is_superuser=True),
    DemoUser("steward", "陈思远", Role.STEWARD, "浙江省卫生健康委员会", is_staff=True),
    DemoUser("county_steward", "方建华", Role.STEWARD, "淳安县卫生健康局"),
    DemoUser("staff", "李晓梅", Role.COMMISSION_STAFF, "杭州市卫生健康委员会"),
    DemoUser("registrar", "张文涛", Role.REGISTRAR, "浙江大学医学院附属第一医院"),
    DemoUser("inst_admin", "刘芳", Role.INSTITUTION_ADMIN, "浙江大学医学院附属第一医院"),
    DemoUser("ph_officer", "赵明辉", Role.PUBLIC_HEALTH_OFFICER, "浙江省疾病预防控制中心"),
    DemoUser("auditor", "孙丽娟", Role.AUDITOR, "浙江省卫生健康委员会"),
]
DEMO_USERNAMES = [user.username for user in DEMO_USERS]


# --- Assets -------------------------------------------------------------------------------


@dataclass
class AssetBatch:
    """Rows of DataAsset field values (by attname) and each row's data elements."""

    rows: list[dict]
    elements: list[list[dict]]


class _Holder:
    """What the factory needs of an institution, precomputed once."""

    __slots__ = ("spec", "pk", "templates", "cum_weights", "total_weight", "storage",
                 "area_code", "always_en", "code_prefix")

    def __init__(self, spec: InstitutionSpec, pk: int, world: World):
        self.spec = spec
        self.pk = pk
        row = world.regions.get(spec.region) if spec.region else None
        city, province = (row.city, row.province) if row else (None, None)
        self.templates: list[_Template] = []
        self.cum_weights: list[float] = []
        self.total_weight = 0.0
        self.storage = _storage_locations(spec)
        self.area_code = AREA_CODES.get((city or "")[:4]) or AREA_CODES.get(
            (province or "")[:2], "")
        self.always_en = spec.type == IT.TERTIARY_HOSPITAL or spec.level == "national"
        self.code_prefix = f"MD-{spec.region or '000000'}-"


def _storage_locations(spec: InstitutionSpec) -> list[str]:
    city = spec.city_short or "北京"
    if spec.type in (IT.HEALTH_COMMISSION, IT.CDC):
        platform = "国家全民健康信息平台" if spec.level == "national" else "卫生健康信息平台"
        return [platform, f"政务云（{city}）", "疾控中心数据中心" if spec.type == IT.CDC
                else "委机关数据中心", "区域全民健康信息平台"]
    if spec.type == IT.ENTERPRISE:
        return ["阿里云华东1区（杭州）", "华为云华南-广州", "腾讯云华北-北京", "天翼云（上海）",
                "自建数据中心"]
    if spec.type == IT.RESEARCH_INSTITUTE:
        return ["院所高性能计算中心", "科研数据平台", f"政务云（{city}）", "阿里云华东1区（杭州）"]
    return ["院内数据中心", "院内数据中心（同城灾备）", "医院集成平台数据仓库", f"政务云（{city}）",
            "区域全民健康信息平台", "阿里云华东1区（杭州）"]


class _Template:
    """An AssetTemplate with the values the factory draws from spelled out once."""

    __slots__ = ("template", "index", "class_id", "categories", "floors", "sources", "methods",
                 "frequencies", "purposes", "descriptions", "special", "elements", "data_format")

    def __init__(self, template: AssetTemplate, index: int, class_id: int):
        self.template = template
        self.index = index
        self.class_id = class_id
        full = sorted(str(c) for c in template.categories)
        short = sorted(str(c) for c in template.categories[:-1]) or full
        self.categories = (full, short)
        self.floors = (minimum_grade(full), minimum_grade(short))
        self.sources = [str(v) for v in template.sources]
        self.methods = [str(v) for v in template.methods]
        self.frequencies = [str(v) for v in template.frequencies]
        self.purposes = sorted(str(v) for v in template.purposes)
        self.descriptions = template.descriptions
        self.data_format = str(template.data_format)
        self.special = SPECIAL_LEGAL_BASES.get(template.special, "")
        self.elements = [
            {"name": e.name, "name_en": e.name_en, "data_type": e.data_type,
             "standard_identifier": e.identifier, "is_personal": e.personal, "description": ""}
            for e in (ELEMENTS[key] for key in template.elements)
        ]


def _lognormal_table(sigma: float, size: int = 2048) -> list[float]:
    """Quantiles of a lognormal distribution: a draw is one index into the table."""
    normal = NormalDist(0, sigma)
    return [math.exp(normal.inv_cdf((i + 0.5) / size)) for i in range(size)]


LOGNORMAL_WIDE = _lognormal_table(0.7)
LOGNORMAL_NARROW = _lognormal_table(0.25)
# Enumeration values as plain strings, for the generator's inner loop.
REGISTERED, DRAFT, DEREGISTERED = (
    AssetStatus.REGISTERED.value, AssetStatus.DRAFT.value, AssetStatus.DEREGISTERED.value)
GENERAL, IMPORTANT, CORE = (
    SecurityClass.GENERAL.value, SecurityClass.IMPORTANT.value, SecurityClass.CORE.value)
UNCONDITIONAL, CONDITIONAL, NOT_SHARED = (
    SharingType.UNCONDITIONAL.value, SharingType.CONDITIONAL.value, SharingType.NOT_SHARED.value)
OPEN, CONDITIONAL_OPEN, NOT_OPEN = (
    OpenAttribute.OPEN.value, OpenAttribute.CONDITIONAL_OPEN.value, OpenAttribute.NOT_OPEN.value)
IDENTIFIED, PSEUDONYMISED, ANONYMISED, NOT_APPLICABLE = (
    DeidentificationState.IDENTIFIED.value, DeidentificationState.PSEUDONYMISED.value,
    DeidentificationState.ANONYMISED.value, DeidentificationState.NOT_APPLICABLE.value)
EXTRA_PURPOSES = [str(P.RESEARCH), str(P.TEACHING), str(P.MANAGEMENT)]
ENDED_FREQUENCIES = frozenset({str(F.YEARLY), str(F.IRREGULAR), str(F.SEMIANNUAL)})
INTERVAL_SECONDS = {
    str(k): v.total_seconds() if v else None for k, v in EXPECTED_UPDATE_INTERVAL.items()
}


class AssetFactory:
    """Generates the world's assets in a fixed order from seeded random streams."""

    def __init__(
        self, world: World, *, seed: int, total: int, institution_ids: dict[int, int],
        class_ids: dict[str, int], responsible_users: dict[int, tuple[int, str]] | None = None,
        now: datetime,
    ):
        # Two streams, so that the world does not depend on the batch size.
        self.rng = random.Random(f"{seed}:assets")  # noqa: S311 - reproducible, not secret
        self.holder_rng = random.Random(f"{seed}:holders")  # noqa: S311
        self.total = total
        self.now = now.replace(microsecond=0)
        self.responsible_users = responsible_users or {}
        self.templates = [_Template(t, i, class_ids[t.catalog_class])
                          for i, t in enumerate(TEMPLATES)]
        self.holders = [_Holder(s, institution_ids[s.index], world) for s in world.institutions]
        weights, running = [], 0.0
        for holder in self.holders:
            running += holder.spec.weight
            weights.append(running)
        self.holder_cum_weights = weights
        tables: dict[tuple[str, str], tuple[list, list]] = {}
        for holder in self.holders:
            key = (holder.spec.type, holder.spec.level)
            if key not in tables:
                tables[key] = self._table(holder.spec)
            holder.templates, holder.cum_weights = tables[key]
            holder.total_weight = holder.cum_weights[-1]
        self.serial = 0
        self.serial_width = max(7, len(str(total)))
        start, end = REGISTRATION_WINDOW
        self.registration_start = start
        self.registration_span = min((end - start).total_seconds(),
                                     (self.now - start).total_seconds())
        self.registrations: dict[tuple[str, int], int] = defaultdict(int)
        self.name_counts: dict[int, int] = defaultdict(int)  # (holder, template) -> seen
        self._token_cache: dict[str, tuple[str, ...]] = {}
        self._verified = 0
        self._shortcut = True

    def _table(self, spec: InstitutionSpec) -> tuple[list[_Template], list[float]]:
        templates, cum, running = [], [], 0.0
        for template in self.templates:
            t = template.template
            weight = t.holders.get(spec.type, 0)
            if weight and (t.levels is None or spec.type != IT.HEALTH_COMMISSION
                           or spec.level in t.levels):
                running += weight
                templates.append(template)
                cum.append(running)
        return templates, cum

    def batches(self, size: int) -> Iterator[AssetBatch]:
        """The world's assets in batches of ``size`` rows."""
        while self.serial < self.total:
            count = min(size, self.total - self.serial)
            holders = self.holder_rng.choices(
                self.holders, cum_weights=self.holder_cum_weights, k=count)
            rows, elements = [], []
            for holder in holders:
                self.serial += 1
                row, template = self._asset(holder)
                rows.append(row)
                elements.append(self._elements(template) if self.serial <= ELEMENT_ASSET_LIMIT
                                else [])
            yield AssetBatch(rows, elements)

    # One asset.
    def _asset(self, holder: _Holder) -> tuple[dict, _Template]:
        random_ = self.rng.random
        spec = holder.spec
        templates = holder.templates
        template = templates[bisect(holder.cum_weights, random_() * holder.total_weight, 0,
                                    len(templates) - 1)]
        t = template.template
        count_key = spec.index * len(TEMPLATES) + template.index
        seen = self.name_counts[count_key]
        self.name_counts[count_key] = seen + 1
        name, name_en = t.name, t.name_en
        if seen:
            year = 2026 - seen
            if year >= 2006:
                name += f"（{year}年度）"
                name_en += f" ({year})"
            else:
                name += f"（分册{seen - 19}）"
                name_en += f" (part {seen - 19})"
        if not holder.always_en and random_() >= 0.3:
            name_en = ""

        variant = 1 if random_() < 0.15 else 0
        categories, floor = template.categories[variant], template.floors[variant]
        grade = t.grade
        draw = random_()
        if draw < 0.12:
            grade = min(5, grade + 1)
        elif draw < 0.18:
            grade -= 1
        grade = max(grade, floor)
        if floor >= 2 and random_() < INCONSISTENT_GRADE_SHARE:
            grade = 1 + int(random_() * (floor - 1))
        sharing_type, sharing_condition, open_attribute = self._sharing(template, grade)

        sources, methods, frequencies = template.sources, template.methods, template.frequencies
        source = sources[int(random_() * len(sources))]
        method = methods[int(random_() * len(methods))]
        frequency = frequencies[int(random_() * len(frequencies))]
        purposes = template.purposes
        extra = EXTRA_PURPOSES[int(random_() * 3)] if random_() < 0.15 else None
        if extra and extra not in purposes:
            purposes = sorted([*purposes, extra])
        description = t.descriptions[int(random_() * len(t.descriptions))]

        records = int(t.records * spec.scale * LOGNORMAL_WIDE[int(random_() * 2048)])
        records = max(100, records)
        storage_bytes = int(records * t.bytes_per_record * LOGNORMAL_NARROW[int(random_() * 2048)])
        if random_() < 0.02:
            storage_bytes = None
        individuals = max(1, int(records / t.records_per_person)) if t.personal else None
        security = GENERAL
        if t.important or (individuals or 0) >= 1_000_000:
            security = IMPORTANT
            if spec.level == "national" and t.important and random_() < 0.3:
                security = CORE

        personal = t.personal
        if personal:
            if grade >= 4:
                deid = IDENTIFIED if random_() < 0.85 else PSEUDONYMISED
            elif grade == 3:
                deid = PSEUDONYMISED if random_() < 0.7 else IDENTIFIED
            else:
                deid = ANONYMISED
        else:
            deid = ANONYMISED if random_() < 0.05 else NOT_APPLICABLE

        if random_() < ABROAD_SHARE:
            location = ABROAD_LOCATIONS[int(random_() * len(ABROAD_LOCATIONS))]
            in_country = False
        else:
            location = holder.storage[int(random_() * len(holder.storage))]
            in_country = True

        draw = random_()
        status = REGISTERED if draw < 0.80 else DRAFT if draw < 0.95 else DEREGISTERED
        registration_number = registered_at = None
        if status != DRAFT:
            registered_at = self.registration_start + timedelta(
                seconds=int(random_() * self.registration_span))
            year = registered_at.year
            sequence_key = (spec.abbr, year)
            self.registrations[sequence_key] += 1
            registration_number = numbers.FORMAT.format(
                prefix=spec.abbr, year=year, sequence=self.registrations[sequence_key])

        last_update = self._last_update(frequency, status)
        temporal_start = date(t.since + int(random_() * (2025 - t.since)), 1, 1)
        temporal_end = None
        if frequency in ENDED_FREQUENCIES or random_() < 0.25:
            temporal_end = max((last_update or self.now).date(), temporal_start)

        person, phone, email = self._person(holder)
        responsible_user_id = None
        if spec.index in self.responsible_users and random_() < 0.35:
            responsible_user_id, person = self.responsible_users[spec.index]

        row = {
            "code": f"{holder.code_prefix}{self.serial:0{self.serial_width}d}",
            "name": spec.name + name,
            "name_en": name_en,
            "description": description,
            "catalog_class_id": template.class_id,
            "data_format": template.data_format,
            "source_system": source,
            "collection_method": method,
            "purposes": purposes,
            "storage_location": location,
            "stored_in_country": in_country,
            "record_count": records,
            "storage_bytes": storage_bytes,
            "individual_count": individuals,
            "update_frequency": frequency,
            "last_data_update": last_update,
            "holder_id": holder.pk,
            "responsible_person": person,
            "responsible_phone": phone,
            "responsible_email": email,
            "responsible_user_id": responsible_user_id,
            "categories": categories,
            "grade": grade,
            "security_class": security,
            "sharing_type": sharing_type,
            "sharing_condition": sharing_condition,
            "open_attribute": open_attribute,
            "contains_personal_info": personal,
            "deidentification": deid,
            "temporal_start": temporal_start,
            "temporal_end": temporal_end,
            "spatial_coverage_id": spec.coverage,
            "status": status,
            "registration_number": registration_number,
            "registered_at": registered_at,
        }
        return row, template

    def _sharing(self, template: _Template, grade: int) -> tuple[str, str, str]:
        random_ = self.rng.random
        draw = random_()
        if grade <= 1:
            sharing = UNCONDITIONAL if draw < 0.7 else CONDITIONAL
        elif grade == 2:
            sharing = UNCONDITIONAL if draw < 0.45 else CONDITIONAL
        elif grade == 3:
            sharing = (CONDITIONAL if draw < 0.85 else NOT_SHARED if draw < 0.97
                       else UNCONDITIONAL)
        elif grade == 4:
            sharing = CONDITIONAL if draw < 0.75 else NOT_SHARED
        else:
            sharing = NOT_SHARED if draw < 0.7 else CONDITIONAL
        if sharing == CONDITIONAL:
            condition = SHARING_CONDITIONS[int(random_() * len(SHARING_CONDITIONS))]
        elif sharing == NOT_SHARED:
            condition = template.special or LEGAL_BASES[int(random_() * len(LEGAL_BASES))]
        else:
            condition = ""
        draw = random_()
        if grade <= MAX_OPEN_GRADE and sharing == UNCONDITIONAL:
            opened = OPEN if draw < 0.75 else CONDITIONAL_OPEN if draw < 0.95 else NOT_OPEN
        elif grade <= MAX_OPEN_GRADE:
            opened = CONDITIONAL_OPEN if draw < 0.5 else NOT_OPEN
        elif grade == 3:
            opened = CONDITIONAL_OPEN if draw < 0.15 else NOT_OPEN
        else:
            opened = NOT_OPEN
        return sharing, condition, opened

    def _last_update(self, frequency: str, status: str) -> datetime | None:
        random_ = self.rng.random
        if status == DRAFT and random_() < 0.2:
            return None
        interval = INTERVAL_SECONDS[frequency]
        if interval is None:
            age = 720 * 86400 * random_()
        elif random_() < OVERDUE_SHARE:
            age = interval * (1.5 + 6.5 * random_())
        else:
            age = interval * 0.9 * random_()
        return self.now - timedelta(seconds=int(age))

    def _person(self, holder: _Holder) -> tuple[str, str, str]:
        random_ = self.rng.random
        surname, surname_py = SURNAMES[int(random_() * len(SURNAMES))]
        first, first_py = GIVEN[int(random_() * len(GIVEN))]
        if random_() < 0.3:
            name, local = surname + first, surname_py + first_py
        else:
            second, second_py = GIVEN[int(random_() * len(GIVEN))]
            name, local = surname + first + second, surname_py + first_py + second_py
        if holder.area_code and random_() < 0.3:
            phone = f"{holder.area_code}-8{int(random_() * 10**7):07d}"
        else:
            phone = f"1{'3456789'[int(random_() * 7)]}{int(random_() * 10**9):09d}"
        email = f"{local}{int(random_() * 100):02d}@{holder.spec.domain}"
        return name, phone, email

    def _elements(self, template: _Template) -> list[dict]:
        count = min(len(template.elements), 3 + int(self.rng.random() * 6))
        return [{"position": position, **element}
                for position, element in enumerate(template.elements[:count], start=1)]

    # The search document, computed as DataAsset.refresh_derived_fields() would.
    def search_document(self, row: dict, fields: tuple[str, ...]) -> str:
        """``search.document`` of the row's search fields, memoising the repeated texts."""
        if not self._shortcut:
            return search.document(*(row[name] for name in fields))
        cache = self._token_cache
        parts = []
        for name in fields:
            text = row[name]
            if name in ("code", "name"):
                parts.append(search.tokens(text))
            else:
                found = cache.get(text)
                if found is None:
                    found = cache[text] = tuple(search.tokens(text))
                parts.append(found)
        found = dict.fromkeys(chain.from_iterable(parts))
        result = " " + " ".join(found) + " " if found else ""
        if self._verified < 500:  # the shortcut must agree with the real thing, or go
            self._verified += 1
            expected = search.document(*(row[name] for name in fields))
            if result != expected:
                self._shortcut = False
                return expected
        return result


# --- Rights allocations -----------------------------------------------------------------------
#
# Every registered asset's holder gets the holding right from the registration date; many
# holders also the right to process and use; some hospitals' patients their personal rights;
# some provincial CDCs a bounded right to process and use a hospital's data for surveillance.
# Which asset gets what is drawn from its serial (the digits of its code) and the seed, so the
# command can write them with a few INSERT … SELECT statements, whatever the world's size.
# A few deliberate problems are then planted for the rights review to find.

HOLD_BASIS = "《数据二十条》第三条；《医疗机构管理条例》"
HOLD_BASES = {  # by holder type; medical institutions take HOLD_BASIS
    IT.HEALTH_COMMISSION: "《数据二十条》第三条；《中华人民共和国基本医疗卫生与健康促进法》",
    IT.CDC: "《数据二十条》第三条；《中华人民共和国传染病防治法》",
    IT.RESEARCH_INSTITUTE: "《数据二十条》第三条；《科学数据管理办法》",
    IT.ENTERPRISE: "《数据二十条》第三条；《中华人民共和国数据安全法》",
}
USE_BASIS = "《数据二十条》第三条；《中华人民共和国数据安全法》第三十二条"
USE_PURPOSE = "本机构诊疗服务、运营管理与质量控制"
USE_SCOPE = "本机构内部使用，不对外提供"
PRODUCT_BASIS = "《数据二十条》第三条；数据产品经营备案"
PRODUCT_PURPOSE = "经脱敏处理的统计分析数据产品"
SUBJECT_GROUP = "本院就诊患者"
SUBJECT_BASIS = "《中华人民共和国个人信息保护法》第四十四条至第四十七条"
SUBJECT_RIGHTS = ("know", "access", "copy", "correct")
CDC_BASIS = "《中华人民共和国传染病防治法》第三十三条；《数据二十条》第三条"
CDC_PURPOSE = "传染病监测预警与疾病预防控制"
CDC_SCOPE = "按监测方案抽取的病例个案字段，仅限疾控中心内部分析"
CDC_TERMS_DAYS = (730, 1095, 1825)  # from the day of seeding: never near their end
HOSPITAL_TYPES = (H3, H2, IT.PRIMARY_HOSPITAL)
MEDICAL_TYPES = (*HOSPITAL_TYPES, CHC, THC)

# Shares, per mille, of the registered assets that qualify.
USE_SHARE = 650  # process_use to the holder
SUBJECT_SHARE = 300  # personal rights to the patients (hospitals' personal data)
CDC_SHARE = 60  # process_use to the provincial CDC (medical institutions' data, grade <= 4)
PRODUCT_SHARE = 400  # product_operate to the holder (enterprises' data, grade <= 4)

# The deliberate problems, planted in the demo steward's province: (kind, how many).
RIGHTS_PROBLEMS = [
    ("no_holder", 3),  # registered, yet no holding right
    ("cdc_unbounded", 2),  # a CDC's right without an end date
    ("subject_resource", 1),  # process_use given to the data subjects
    ("grade5_product", 1),  # product operation of grade-5 data
    ("expired", 2),  # in force past its end date
    ("expiring", 2),  # ending within 30 days
]
EXPIRED_DAYS_AGO = (15, 40)
EXPIRING_IN_DAYS = (10, 25)
# Odd multipliers prime to 1000: each turns the serial into a different per-mille draw.
_STREAM_MULTIPLIERS = {"use": 7919, "subjects": 104_729, "cdc": 1_299_709, "product": 15_485_863,
                       "term": 611_953}


def rights_streams(seed: int) -> dict[str, tuple[int, int]]:
    """(multiplier, offset) of each draw: ``(serial * multiplier + offset) % 1000``."""
    rng = random.Random(f"{seed}:rights")  # noqa: S311 - reproducible, not secret
    return {name: (multiplier, rng.randrange(1000))
            for name, multiplier in _STREAM_MULTIPLIERS.items()}
