//! The permission catalogue. Roles are data (sets of these strings); code asks for a permission
//! by constant so a typo is a compile error, and the catalogue is what the role editor offers.

pub const ORG_READ: &str = "org.node.read";
pub const ORG_CREATE: &str = "org.node.create";
pub const ORG_UPDATE: &str = "org.node.update";
pub const USER_READ: &str = "iam.user.read";
pub const USER_MANAGE: &str = "iam.user.manage";
pub const ROLE_MANAGE: &str = "iam.role.manage";
pub const GRANT_MANAGE: &str = "iam.grant.manage";
pub const TOKEN_MANAGE: &str = "iam.token.manage";
pub const AUDIT_READ: &str = "audit.read";
pub const AUDIT_VERIFY: &str = "audit.verify";
pub const WEBHOOK_MANAGE: &str = "webhook.manage";
pub const JOB_READ: &str = "job.read";
pub const TENANT_CREATE: &str = "platform.tenant.create";
pub const INVENTORY_MOVE_CREATE: &str = "inventory.move.create";
pub const INVENTORY_READ: &str = "inventory.read";
pub const INVENTORY_TRANSFER: &str = "inventory.transfer";
pub const INVENTORY_COUNT: &str = "inventory.count";
pub const INVENTORY_LOCATION: &str = "inventory.location.manage";
pub const INVENTORY_CATALOG: &str = "inventory.catalog.manage";
pub const INVENTORY_PERIOD: &str = "inventory.period.lock";
pub const SALES_READ: &str = "sales.read";
pub const SALES_INGEST: &str = "sales.ingest";
pub const SALES_MAP: &str = "sales.mapping.manage";
pub const FINANCE_READ: &str = "finance.read";
pub const MAINTENANCE_WORK: &str = "maintenance.work_order.update";
pub const MAINTENANCE_READ: &str = "maintenance.work_order.read";
pub const MAINTENANCE_REQUEST: &str = "maintenance.work_order.request";
pub const MAINTENANCE_DISPATCH: &str = "maintenance.work_order.dispatch";
pub const MAINTENANCE_ASSET_READ: &str = "maintenance.asset.read";
pub const MAINTENANCE_ASSET: &str = "maintenance.asset.manage";
pub const WORKFLOW_MANAGE: &str = "workflow.definition.manage";
pub const WORKFLOW_READ: &str = "workflow.read";
pub const PURCHASING_ORDER: &str = "purchasing.order.create";
pub const PURCHASING_READ: &str = "purchasing.read";
pub const PURCHASING_INVOICE: &str = "purchasing.invoice.manage";
pub const PURCHASING_INVOICE_ACCEPT: &str = "purchasing.invoice.accept";
pub const PURCHASING_PAYMENT: &str = "purchasing.payment.record";

/// Every permission with its English and Chinese label, in display order.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    (ORG_READ, "View organisation and stores", "查看组织与门店"),
    (
        ORG_CREATE,
        "Create organisation nodes and stores",
        "新建组织节点与门店",
    ),
    (
        ORG_UPDATE,
        "Edit organisation nodes and stores",
        "编辑组织节点与门店",
    ),
    (USER_READ, "View users", "查看用户"),
    (
        USER_MANAGE,
        "Create, reset and deactivate users",
        "新建、重置和停用用户",
    ),
    (ROLE_MANAGE, "Edit roles", "编辑角色"),
    (GRANT_MANAGE, "Grant and revoke roles", "授予和撤销角色"),
    (
        TOKEN_MANAGE,
        "Create and revoke own API tokens",
        "创建和撤销自己的 API 令牌",
    ),
    (AUDIT_READ, "Read the audit log", "查看审计日志"),
    (AUDIT_VERIFY, "Verify the audit chain", "校验审计链"),
    (
        WEBHOOK_MANAGE,
        "Manage webhook subscriptions",
        "管理 Webhook 订阅",
    ),
    (JOB_READ, "View background jobs", "查看后台任务"),
    (
        TENANT_CREATE,
        "Create companies (tenants)",
        "新建公司（租户）",
    ),
    (INVENTORY_READ, "View inventory", "查看库存"),
    (
        INVENTORY_MOVE_CREATE,
        "Post stock movements",
        "过账库存移动",
    ),
    (
        INVENTORY_TRANSFER,
        "Request, ship and receive transfers",
        "申请、发出和接收调拨",
    ),
    (INVENTORY_COUNT, "Count stock and post counts", "盘点并过账"),
    (
        INVENTORY_LOCATION,
        "Edit par levels, storage areas and stock policy of a location",
        "编辑地点的标准库存、库位和库存策略",
    ),
    (
        INVENTORY_CATALOG,
        "Manage items, recipes, suppliers and prices",
        "管理物料、配方、供应商和价格",
    ),
    (INVENTORY_PERIOD, "Lock inventory periods", "锁定库存期间"),
    (SALES_READ, "View sales", "查看销售"),
    (
        SALES_INGEST,
        "Send and re-import POS sales",
        "上传和重新导入 POS 销售",
    ),
    (SALES_MAP, "Map POS codes to items", "将 POS 编码映射到物料"),
    (FINANCE_READ, "View finance", "查看财务"),
    (
        MAINTENANCE_ASSET_READ,
        "View maintenance assets and their QR labels",
        "查看设备资产及其二维码标签",
    ),
    (
        MAINTENANCE_ASSET,
        "Register, edit and retire maintenance assets and their meters",
        "登记、编辑和报废设备资产及其计量表",
    ),
    (
        MAINTENANCE_READ,
        "View maintenance work orders and their KPIs",
        "查看维修工单及其指标",
    ),
    (
        MAINTENANCE_REQUEST,
        "Report faults (open maintenance work orders)",
        "报修（新建维修工单）",
    ),
    (
        MAINTENANCE_WORK,
        "Work on the maintenance work orders assigned to me",
        "处理分派给我的维修工单",
    ),
    (
        MAINTENANCE_DISPATCH,
        "Dispatch, close and cancel work orders; manage technicians, SLA policies and PM schedules",
        "派工、关闭和取消工单；管理技师、SLA 策略和预防性维护计划",
    ),
    (WORKFLOW_MANAGE, "Edit approval workflows", "编辑审批流程"),
    (
        WORKFLOW_READ,
        "View approval workflows and routes",
        "查看审批流程与审批路径",
    ),
    (PURCHASING_READ, "View purchase orders", "查看采购订单"),
    (
        PURCHASING_ORDER,
        "Create, change and submit purchase orders",
        "新建、修改和提交采购订单",
    ),
    (
        PURCHASING_INVOICE,
        "Enter and import supplier invoices, submit them for payment, edit match tolerances",
        "录入和导入供应商发票、提交付款审批、编辑匹配容差",
    ),
    (
        PURCHASING_INVOICE_ACCEPT,
        "Accept supplier invoices with match exceptions",
        "接受存在匹配异常的供应商发票",
    ),
    (
        PURCHASING_PAYMENT,
        "Record supplier payments and apply credit notes",
        "登记供应商付款并核销红字发票",
    ),
];

/// True when `p` is in the catalogue.
pub fn is_known(p: &str) -> bool {
    CATALOGUE.iter().any(|(k, _, _)| *k == p)
}
