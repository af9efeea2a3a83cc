"""The console's Chinese names for the store's codes (statuses, ledger states, kinds, channels …)."""

ITEM_STATUS = {"draft": "草稿", "in_review": "审核中", "approved": "已签发", "published": "已发布",
               "withdrawn": "已撤稿"}
KIND = {"news": "新闻动态", "policy": "政策文件", "interpretation": "政策解读", "notice": "通知公告",
        "emergency": "突发事件"}
CHANNEL = {"portal": "门户网站", "wechat": "微信公众号", "weibo": "微博", "appfeed": "客户端信息流"}
CHANNEL_ORDER = ["portal", "wechat", "weibo", "appfeed"]
ROLE = {"editor": "编辑", "reviewer": "审核员", "signer": "签发人", "admin": "系统管理员"}
OPERATION = {"publish": "发布", "correct": "更正", "takedown": "撤稿"}
STATE = {"pending": "排队中", "in_flight": "发送中", "remote_pending": "平台处理中", "succeeded": "成功",
         "retrying": "等待重试", "unknown": "结果未知", "failed": "失败", "dead": "死信", "withdrawn": "已撤下"}
FAILED_STATES = ["failed", "dead", "unknown"]
RULE = {"sensitive_word": "敏感词", "id_card": "身份证号", "mobile": "手机号", "bank_card": "银行卡号",
        "external_link": "外部链接", "ad_phrase": "广告用语"}
FIELD = {"title": "标题", "summary": "摘要", "body": "正文"}
DECISION = {"approve": "通过", "reject": "退回"}


def cell_state(state: str, operation: str) -> str:
    """What a board cell shows: a finished takedown is "withdrawn", everything else its ledger state."""
    return "withdrawn" if operation == "takedown" and state == "succeeded" else state
