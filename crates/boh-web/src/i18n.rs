//! UI languages: English and Simplified Chinese. Strings live in `locales/*.yml` and are compiled
//! into the binary. The language is the user's preference when logged in, otherwise the
//! `boh_lang` cookie, otherwise the browser's `Accept-Language`.

use axum::http::request::Parts;

pub const LOCALES: &[(&str, &str)] = &[("en", "English"), ("zh-CN", "简体中文")];

/// Translate `key` into `locale`, falling back to English, then to the key itself.
pub fn t(locale: &str, key: &str) -> String {
    rust_i18n::t!(key, locale = locale).into_owned()
}

/// Translate with `%{name}` placeholders filled in.
pub fn t_args(locale: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(locale, key);
    for (k, v) in args {
        s = s.replace(&format!("%{{{k}}}"), v);
    }
    s
}

/// Normalise anything the browser or user sends to one of our locales.
pub fn normalise(lang: &str) -> &'static str {
    if lang.trim().to_ascii_lowercase().starts_with("zh") {
        "zh-CN"
    } else {
        "en"
    }
}

/// The locale for an anonymous request.
pub fn from_request(parts: &Parts) -> &'static str {
    if let Some(c) = crate::extract::cookie(parts, "boh_lang") {
        return normalise(&c);
    }
    let accept = parts
        .headers
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The first language listed wins (browsers order by preference).
    match accept.split(',').next() {
        Some(first) if !first.trim().is_empty() => normalise(first),
        _ => "en",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_translate_and_fall_back() {
        assert_eq!(t("en", "nav.stores"), "Stores");
        assert_eq!(t("zh-CN", "nav.stores"), "门店");
        assert_eq!(normalise("zh-TW"), "zh-CN");
        assert_eq!(normalise("de-DE"), "en");
    }
}

/// Chinese for a platform validation message. The platform speaks English (the API's stable
/// language); the UI translates the messages it shows. Unknown messages pass through unchanged.
pub fn field_message(locale: &str, msg: &str) -> String {
    if !locale.starts_with("zh") {
        return msg.to_string();
    }
    const EXACT: &[(&str, &str)] = &[
        ("is required", "必填"),
        ("must be a number", "必须是数字"),
        ("must be a date as YYYY-MM-DD", "日期格式须为 YYYY-MM-DD"),
        ("must be between -90 and 90", "须在 -90 到 90 之间"),
        ("must be between -180 and 180", "须在 -180 到 180 之间"),
        ("must be between 0 and 1000000", "须在 0 到 1000000 之间"),
        ("must be between 1 and 3650", "须在 1 到 3650 之间"),
        ("is not an e-mail address", "不是有效的电子邮件地址"),
        (
            "must be an http:// or https:// URL",
            "须为 http:// 或 https:// 开头的网址",
        ),
        (
            "may contain only letters, digits, '-', '_' and '.'",
            "只能包含字母、数字、“-”“_”和“.”",
        ),
        (
            "may contain only letters, digits and . _ - @",
            "只能包含字母、数字及 . _ - @",
        ),
        ("must be en or zh-CN", "须为 en 或 zh-CN"),
        (
            "must be a store, warehouse or central kitchen",
            "须为门店、仓库或中央厨房",
        ),
        ("must not be before the install date", "不能早于安装日期"),
        ("no such supplier", "供应商不存在"),
        ("no such asset", "设备不存在"),
        (
            "must be an asset at the same location",
            "须为同一地点的设备",
        ),
        (
            "would make a cycle: the parent is the asset itself or one of its sub-assets",
            "会形成循环：上级设备是该设备本身或其下级设备",
        ),
        ("is retired", "已报废"),
        (
            "the hierarchy may be at most 4 levels deep",
            "设备层级最多 4 级",
        ),
        (
            "is already used by another asset of the company",
            "已被本公司的其他设备使用",
        ),
        (
            "an asset with sub-assets cannot move to another site; move or detach them first",
            "有下级设备的设备不能移到其他地点，请先移动或解除其下级设备",
        ),
        (
            "may contain only lower-case letters, digits and _",
            "只能包含小写字母、数字和 _",
        ),
        ("must be a whole number", "须为整数"),
        ("a company has no parent", "公司不能有上级节点"),
        (
            "stores, warehouses and kitchens cannot have children",
            "门店、仓库和中央厨房下不能再建节点",
        ),
        ("must be at least 10 characters", "至少 10 个字符"),
        ("must be at most 256 bytes", "最多 256 字节"),
        (
            "the record was changed by someone else; reload and try again",
            "记录已被他人修改，请刷新后重试",
        ),
        (
            "must list at least one topic pattern",
            "至少填写一个事件主题",
        ),
        ("you cannot deactivate yourself", "不能停用自己"),
        (
            "the node belongs to another company than the user",
            "该节点与用户不属于同一公司",
        ),
        ("the role belongs to another company", "该角色属于其他公司"),
        ("must not be zero", "不能为零"),
        (
            "must be positive (the document kind says which way stock moves)",
            "须为正数（单据类型决定出入库方向）",
        ),
        ("no such item", "没有此物料"),
        ("no such location", "没有此地点"),
        ("no such category", "没有此分类"),
        ("item_id or item_code is required", "必须填写物料"),
        ("is required for adjustments", "调整必须填写原因"),
        ("cannot be in the future", "不能是未来日期"),
        ("at least one line is required", "至少需要一行"),
        (
            "not enough stock for every line; nothing was posted",
            "部分行库存不足，整张单据未过账",
        ),
        (
            "only increases take a cost; decreases leave at the average cost",
            "只有入库可填成本；出库按移动平均成本计价",
        ),
        (
            "must be a non-negative amount with at most 6 decimals",
            "须为非负金额，最多 6 位小数",
        ),
        (
            "must be a positive number of base units",
            "须为正数（基本单位数量）",
        ),
        (
            "write each unit as: case = 12",
            "每行写一个单位，如：case = 12",
        ),
        ("must be a whole number of days", "须为整数天数"),
        (
            "must be a unit code of 1 to 16 lowercase letters, digits, _ or -",
            "单位编码须为 1–16 位小写字母、数字、_ 或 -",
        ),
        (
            "may contain only letters, digits and - _ . /",
            "只能包含字母、数字及 - _ . /",
        ),
        ("this document has been reversed already", "此单据已被冲销"),
        ("is required for a new store", "新门店必填"),
        ("this column is required", "此列必须有"),
        ("the header is empty", "表头为空"),
        (
            "only the user who uploaded an import may apply it",
            "只有上传该导入的用户可以应用",
        ),
        (
            "records were changed by someone else during the import; run it again",
            "导入期间记录被他人修改，请重新导入",
        ),
        ("must be positive", "必须大于 0"),
        ("must be 0 or more", "不能为负数"),
        ("must be between 0 and 365", "须在 0 到 365 之间"),
        ("must be an amount such as 12.50", "须为金额，如 12.50"),
        ("must be a decimal number such as 12.5", "须为数字，如 12.5"),
        ("may have at most 2 decimal places", "最多 2 位小数"),
        ("may have at most 6 decimal places", "最多 6 位小数"),
        (
            "must be more than 0 and at most 100",
            "须大于 0 且不超过 100",
        ),
        ("at least one line is required", "至少需要一行"),
        (
            "must list ISO weekdays from 1 (Monday) to 7 (Sunday)",
            "须为 1（周一）到 7（周日）",
        ),
        (
            "must be three capital letters (ISO 4217), e.g. CNY",
            "须为三个大写字母（ISO 4217），如 CNY",
        ),
        (
            "may contain only digits, spaces and + - ( ) . /",
            "只能包含数字、空格及 + - ( ) . /",
        ),
        (
            "must be a positive amount in minor units up to 1000000000000",
            "须为正数金额",
        ),
        (
            "not enough stock for every line; nothing was posted",
            "部分原料库存不足，未过账",
        ),
        (
            "say why (at most 1,000 characters)",
            "请说明原因（最多 1,000 个字符）",
        ),
        ("must be greater than zero", "必须大于 0"),
        ("a decimal number such as 3 or 2.5", "须为数字，如 3 或 2.5"),
    ];
    if let Some((_, zh)) = EXACT.iter().find(|(en, _)| *en == msg) {
        return (*zh).to_string();
    }
    let patterns: &[(&str, &str, &str)] = &[
        ("must be at most ", " characters", "最多 {} 个字符"),
        (
            "unknown column; the columns are ",
            "",
            "未知的列；可用的列：{}",
        ),
        ("the same code is also in row ", "", "与第 {} 行的编码相同"),
        ("is a ", ", not a store", "是 {}，不是门店"),
        (
            "stores are not moved by an import (now under ",
            ")",
            "导入不会移动门店（当前属于 {}）",
        ),
        (
            "you do not have the permission ",
            " here",
            "您在此处没有 {} 权限",
        ),
        (
            "the cell is longer than ",
            " characters",
            "单元格超过 {} 个字符",
        ),
        (
            "the cell holds the Excel error ",
            "",
            "单元格含 Excel 错误值 {}",
        ),
        ("", " more errors are not listed", "另有 {} 个错误未列出"),
        ("", " more problems are not listed", "另有 {} 个问题未列出"),
        ("the import is ", " already", "该导入已是“{}”状态"),
        ("must be one of ", "", "须为以下之一：{}"),
        ("unknown time zone ", "", "未知时区 {}"),
        ("unknown permission ", "", "未知权限 {}"),
        (
            "code ",
            " is already used in this company",
            "编码 {} 在本公司已被使用",
        ),
        ("username ", " is taken", "用户名 {} 已被占用"),
        ("must be after ", "", "须晚于 {}"),
        ("must be on or after ", "", "不得早于 {}"),
        ("supplier ", " is closed", "供应商 {} 已停用"),
        (
            "versions are never changed: a new version must take effect after ",
            "",
            "版本一经保存不能修改：新版本的生效日期须晚于 {}",
        ),
        (
            "the recipe would contain itself: ",
            "",
            "配方会包含自身：{}",
        ),
        ("role code ", " exists", "角色编码 {} 已存在"),
        (
            "you cannot grant ",
            ", which you do not hold here",
            "您在此处没有 {} 权限，不能授予",
        ),
    ];
    for (pre, post, zh) in patterns {
        if let Some(mid) = msg.strip_prefix(pre).and_then(|r| r.strip_suffix(post)) {
            return zh.replace("{}", mid);
        }
    }
    // Messages with several values: `{}` in the English template, `{0}`, `{1}`, … in the
    // Chinese one (Chinese word order differs).
    let templates: &[(&str, &str)] = &[
        (
            "only {} {} of {} on hand at {}; cannot remove {}",
            "{3} 的 {2} 仅有 {0} {1}，不能出库 {4}",
        ),
        (
            "item {} has no conversion from {} to {}",
            "物料 {0} 没有从 {1} 到 {2} 的换算",
        ),
        (
            "item {} is lot-tracked: the lot is required",
            "物料 {0} 按批次管理，必须填写批次",
        ),
        ("item {} is not lot-tracked", "物料 {0} 不按批次管理"),
        ("item {} is inactive", "物料 {0} 已停用"),
        ("item {} is not kept in stock", "物料 {0} 不设库存"),
        ("item {} exists already", "物料 {0} 已存在"),
        ("no item {}", "没有物料 {0}"),
        ("no category {}", "没有分类 {0}"),
        ("no lot {} of item {}", "物料 {1} 没有批次 {0}"),
        ("code {} appears more than once", "编码 {0} 重复出现"),
        ("barcode {} belongs to item {}", "条码 {0} 已属于物料 {1}"),
        (
            "inventory is locked through {}; post on a later date",
            "库存已锁定至 {0}，请使用之后的日期",
        ),
        ("must be after {}", "须晚于 {0}"),
        ("is required for waste: one of {}", "报损必须填写原因：{0}"),
        ("quantity {}", "数量{0}"),
        (
            "nothing received on order line {} yet",
            "订单第 {0} 行尚未收货",
        ),
        (
            "{} {} invoiced in all, {} received (allowed up to {})",
            "共开票 {0} {1}，已收货 {2}（最多允许 {3}）",
        ),
        (
            "invoiced at {} per {}, ordered at {} (allowed up to {})",
            "发票单价 {0}/{1}，订单价 {2}（最多允许 {3}）",
        ),
        (
            "the price list of {} says {} per {}; invoiced at {}",
            "{0} 的价目表价为 {1}/{2}，发票单价 {3}",
        ),
        (
            "supplier {} invoice {} of {} (order {}) is recorded already",
            "供应商 {0} 的发票 {1}（{2}，订单 {3}）已录入",
        ),
        (
            "{} is more than the {} still due on invoice {}",
            "{0} 超过发票 {2} 的待付金额 {1}",
        ),
        (
            "at most {} {} can go back: {} accepted, {} returned before",
            "最多可退 {0} {1}：已验收 {2}，此前已退 {3}",
        ),
        ("order {} has no such line", "订单 {0} 没有这一行"),
    ];
    for (en, zh) in templates {
        if let Some(args) = match_template(en, msg) {
            let mut out = (*zh).to_string();
            for (i, a) in args.iter().enumerate() {
                out = out.replace(&format!("{{{i}}}"), a);
            }
            // Nested messages ("quantity must be …") translate their tail too.
            return out.replace("must be a decimal number such as 12.5", "须为数字，如 12.5");
        }
    }
    if let Some(what) = msg.strip_suffix(" not found") {
        return format!("未找到 {what}");
    }
    msg.to_string()
}

/// Match `msg` against a template with `{}` holes; the holes' contents in order.
fn match_template<'a>(template: &str, msg: &'a str) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = template.split("{}").collect();
    let mut rest = msg.strip_prefix(parts.first()?)?;
    let mut args = Vec::new();
    for (i, lit) in parts.iter().enumerate().skip(1) {
        let last = i + 1 == parts.len();
        let at = if last {
            if lit.is_empty() {
                rest.len()
            } else if rest.ends_with(lit) {
                rest.len() - lit.len()
            } else {
                return None;
            }
        } else {
            rest.find(lit)?
        };
        args.push(&rest[..at]);
        rest = &rest[at + lit.len()..];
    }
    (rest.is_empty()).then_some(args)
}

#[cfg(test)]
mod field_tests {
    use super::field_message;

    #[test]
    fn translates_known_messages_and_keeps_the_rest() {
        assert_eq!(field_message("zh-CN", "is required"), "必填");
        assert_eq!(
            field_message("zh-CN", "must be at most 32 characters"),
            "最多 32 个字符"
        );
        assert_eq!(
            field_message("zh-CN", "code S001 is already used in this company"),
            "编码 S001 在本公司已被使用"
        );
        assert_eq!(
            field_message("zh-CN", "R-NOWHERE not found"),
            "未找到 R-NOWHERE"
        );
        assert_eq!(
            field_message(
                "zh-CN",
                "stores are not moved by an import (now under R-EAST)"
            ),
            "导入不会移动门店（当前属于 R-EAST）"
        );
        assert_eq!(
            field_message("zh-CN", "the same code is also in row 7"),
            "与第 7 行的编码相同"
        );
        assert_eq!(field_message("en", "is required"), "is required");
        assert_eq!(
            field_message(
                "zh-CN",
                "only 10 ea of BUN on hand at S001; cannot remove 11"
            ),
            "S001 的 BUN 仅有 10 ea，不能出库 11"
        );
        assert_eq!(
            field_message("zh-CN", "quantity must be a decimal number such as 12.5"),
            "数量须为数字，如 12.5"
        );
        assert_eq!(
            field_message(
                "zh-CN",
                "5 bag invoiced in all, 4 received (allowed up to 4)"
            ),
            "共开票 5 bag，已收货 4（最多允许 4）"
        );
        assert_eq!(field_message("zh-CN", "something new"), "something new");
    }
}
