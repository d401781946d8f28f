//! Demo catalogue and stock history for `boh serve --demo`: a restaurant-and-retail chain's
//! categories and about 800 items (ingredients, prepared items, menu items, packaging, retail
//! goods, supplies), per-location settings and par levels, opening stock at every location and
//! 180 days of receipts, issues and waste. Deterministic: the same seed gives the same data
//! (dates are relative to today, so the demo always looks current).
//!
//! [`seed_catalog`] is cheap and used by the test harness too; [`seed_history`] is the bulk of
//! the demo and only runs for `boh serve --demo`.

use std::collections::HashMap;

use boh_kernel::Qty;
use boh_kernel::qty::MICRO;
use boh_platform::org::OrgNode;
use boh_platform::{Ctx, Platform, PlatformError, Result};

use crate::catalog::{self, Item, ItemInput, ItemUnit, UpsertMode};
use crate::ledger::{self, LotPick, PostDoc, PostLine, ValueSpec};

/// A small deterministic generator (SplitMix64), so demo data is the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// True with probability `pct` %.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next_u64() % 100 < pct
    }
}

/// (code, parent code, Chinese, English)
pub const CATEGORIES: &[(&str, &str, &str, &str)] = &[
    ("ING", "", "原料", "Ingredients"),
    ("MEAT", "ING", "肉禽", "Meat & poultry"),
    ("SEA", "ING", "水产海鲜", "Seafood"),
    ("VEG", "ING", "蔬菜", "Vegetables"),
    ("FRUIT", "ING", "水果", "Fruit"),
    ("DAIRY", "ING", "乳制品与蛋", "Dairy & eggs"),
    ("GRAIN", "ING", "粮油米面", "Grain, rice & oil"),
    ("SEAS", "ING", "调味品", "Seasonings & sauces"),
    ("DRYG", "ING", "干货", "Dry goods"),
    ("BEVI", "ING", "饮品原料", "Beverage ingredients"),
    ("FROZ", "ING", "冷冻食品", "Frozen foods"),
    ("PREP", "", "半成品", "Prepared items"),
    ("MENU", "", "菜品", "Menu items"),
    ("MAIN", "MENU", "主食", "Mains"),
    ("SIDE", "MENU", "小食", "Sides"),
    ("DRINK", "MENU", "饮品", "Drinks"),
    ("DESS", "MENU", "甜品", "Desserts"),
    ("PACK", "", "包材", "Packaging"),
    ("RET", "", "零售商品", "Retail goods"),
    ("RBEV", "RET", "瓶装饮料", "Bottled drinks"),
    ("RSNK", "RET", "零食", "Snacks"),
    ("RGRO", "RET", "杂货", "Grocery"),
    ("SUP", "", "耗材", "Supplies"),
    ("CLEAN", "SUP", "清洁用品", "Cleaning"),
];

/// Ingredients: (category, Chinese, English, base unit, storage, shelf life days, lot-tracked,
/// pack unit, base units per pack, cost per base unit in fen).
type Ing = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    bool,
    &'static str,
    i64,
    i64,
);

const INGREDIENTS: &[Ing] = &[
    (
        "MEAT",
        "鸡胸肉",
        "Chicken breast",
        "kg",
        "chilled",
        5,
        true,
        "case",
        10,
        2200,
    ),
    (
        "MEAT",
        "去骨鸡腿肉",
        "Boneless chicken thigh",
        "kg",
        "chilled",
        5,
        true,
        "case",
        10,
        2400,
    ),
    (
        "MEAT",
        "鸡翅中",
        "Chicken wing mid",
        "kg",
        "frozen",
        180,
        true,
        "case",
        10,
        3600,
    ),
    (
        "MEAT",
        "整鸡",
        "Whole chicken",
        "kg",
        "chilled",
        4,
        true,
        "case",
        12,
        1800,
    ),
    (
        "MEAT",
        "猪里脊",
        "Pork loin",
        "kg",
        "chilled",
        5,
        true,
        "case",
        10,
        3200,
    ),
    (
        "MEAT",
        "五花肉",
        "Pork belly",
        "kg",
        "chilled",
        5,
        true,
        "case",
        10,
        3000,
    ),
    (
        "MEAT",
        "猪肋排",
        "Pork ribs",
        "kg",
        "frozen",
        180,
        true,
        "case",
        10,
        4200,
    ),
    (
        "MEAT",
        "猪肉末",
        "Minced pork",
        "kg",
        "chilled",
        3,
        true,
        "case",
        10,
        2600,
    ),
    (
        "MEAT",
        "牛腩",
        "Beef brisket",
        "kg",
        "frozen",
        180,
        true,
        "case",
        10,
        6800,
    ),
    (
        "MEAT",
        "牛里脊",
        "Beef tenderloin",
        "kg",
        "chilled",
        5,
        true,
        "case",
        5,
        12000,
    ),
    (
        "MEAT",
        "肥牛卷",
        "Sliced beef rolls",
        "kg",
        "frozen",
        180,
        true,
        "case",
        10,
        7200,
    ),
    (
        "MEAT",
        "牛肉饼",
        "Beef patty",
        "kg",
        "frozen",
        180,
        true,
        "case",
        10,
        6000,
    ),
    (
        "MEAT",
        "羊肉卷",
        "Sliced lamb rolls",
        "kg",
        "frozen",
        180,
        true,
        "case",
        10,
        7800,
    ),
    (
        "MEAT",
        "鸭胸",
        "Duck breast",
        "kg",
        "frozen",
        180,
        true,
        "case",
        10,
        4000,
    ),
    (
        "MEAT", "培根", "Bacon", "kg", "chilled", 30, true, "case", 5, 5200,
    ),
    (
        "MEAT",
        "火腿片",
        "Sliced ham",
        "kg",
        "chilled",
        30,
        true,
        "case",
        5,
        4600,
    ),
    (
        "MEAT",
        "台式香肠",
        "Taiwanese sausage",
        "kg",
        "frozen",
        180,
        true,
        "case",
        5,
        3800,
    ),
    (
        "SEA",
        "虾仁",
        "Peeled shrimp",
        "kg",
        "frozen",
        240,
        true,
        "case",
        10,
        9000,
    ),
    (
        "SEA",
        "巴沙鱼柳",
        "Basa fillet",
        "kg",
        "frozen",
        240,
        true,
        "case",
        10,
        2800,
    ),
    (
        "SEA",
        "三文鱼",
        "Salmon fillet",
        "kg",
        "chilled",
        4,
        true,
        "case",
        5,
        16000,
    ),
    (
        "SEA",
        "鱿鱼圈",
        "Squid rings",
        "kg",
        "frozen",
        240,
        true,
        "case",
        10,
        4400,
    ),
    (
        "SEA",
        "蟹柳",
        "Crab sticks",
        "kg",
        "frozen",
        240,
        true,
        "case",
        10,
        2600,
    ),
    (
        "SEA",
        "鳕鱼块",
        "Cod portions",
        "kg",
        "frozen",
        240,
        true,
        "case",
        10,
        8800,
    ),
    (
        "VEG", "生菜", "Lettuce", "kg", "chilled", 5, false, "case", 10, 800,
    ),
    (
        "VEG", "番茄", "Tomato", "kg", "chilled", 7, false, "case", 10, 700,
    ),
    (
        "VEG", "洋葱", "Onion", "kg", "ambient", 30, false, "bag", 20, 350,
    ),
    (
        "VEG", "土豆", "Potato", "kg", "ambient", 30, false, "bag", 25, 300,
    ),
    (
        "VEG",
        "胡萝卜",
        "Carrot",
        "kg",
        "chilled",
        20,
        false,
        "bag",
        20,
        400,
    ),
    (
        "VEG", "黄瓜", "Cucumber", "kg", "chilled", 7, false, "case", 10, 600,
    ),
    (
        "VEG",
        "青椒",
        "Green pepper",
        "kg",
        "chilled",
        7,
        false,
        "case",
        10,
        800,
    ),
    (
        "VEG", "大蒜", "Garlic", "kg", "ambient", 60, false, "bag", 10, 1200,
    ),
    (
        "VEG", "生姜", "Ginger", "kg", "ambient", 30, false, "bag", 10, 1400,
    ),
    (
        "VEG",
        "小葱",
        "Spring onion",
        "kg",
        "chilled",
        5,
        false,
        "case",
        5,
        1000,
    ),
    (
        "VEG",
        "香菜",
        "Coriander",
        "kg",
        "chilled",
        4,
        false,
        "case",
        2,
        1600,
    ),
    (
        "VEG",
        "卷心菜",
        "Cabbage",
        "kg",
        "chilled",
        14,
        false,
        "bag",
        20,
        300,
    ),
    (
        "VEG",
        "西兰花",
        "Broccoli",
        "kg",
        "chilled",
        7,
        false,
        "case",
        10,
        1000,
    ),
    (
        "VEG",
        "玉米粒",
        "Sweet corn kernels",
        "kg",
        "frozen",
        365,
        false,
        "case",
        10,
        900,
    ),
    (
        "VEG",
        "青豆",
        "Green peas",
        "kg",
        "frozen",
        365,
        false,
        "case",
        10,
        1000,
    ),
    (
        "VEG",
        "香菇",
        "Shiitake mushroom",
        "kg",
        "chilled",
        7,
        false,
        "case",
        5,
        1800,
    ),
    (
        "VEG",
        "金针菇",
        "Enoki mushroom",
        "kg",
        "chilled",
        7,
        false,
        "case",
        5,
        1200,
    ),
    (
        "VEG",
        "豆芽",
        "Bean sprouts",
        "kg",
        "chilled",
        3,
        false,
        "case",
        5,
        400,
    ),
    (
        "VEG", "菠菜", "Spinach", "kg", "chilled", 4, false, "case", 5, 900,
    ),
    (
        "FRUIT", "柠檬", "Lemon", "kg", "chilled", 21, false, "case", 10, 1200,
    ),
    (
        "FRUIT", "橙子", "Orange", "kg", "chilled", 21, false, "case", 15, 900,
    ),
    (
        "FRUIT",
        "草莓",
        "Strawberry",
        "kg",
        "chilled",
        4,
        false,
        "case",
        2,
        3000,
    ),
    (
        "FRUIT", "芒果", "Mango", "kg", "ambient", 7, false, "case", 10, 1600,
    ),
    (
        "FRUIT", "香蕉", "Banana", "kg", "ambient", 6, false, "case", 13, 600,
    ),
    (
        "FRUIT",
        "西瓜",
        "Watermelon",
        "kg",
        "ambient",
        10,
        false,
        "ea",
        6,
        300,
    ),
    (
        "FRUIT",
        "牛油果",
        "Avocado",
        "kg",
        "ambient",
        7,
        false,
        "case",
        4,
        4000,
    ),
    (
        "DAIRY",
        "全脂牛奶",
        "Whole milk",
        "l",
        "chilled",
        10,
        true,
        "case",
        12,
        1100,
    ),
    (
        "DAIRY",
        "淡奶油",
        "Whipping cream",
        "l",
        "chilled",
        30,
        true,
        "case",
        12,
        4200,
    ),
    (
        "DAIRY", "黄油", "Butter", "kg", "chilled", 90, true, "case", 10, 6800,
    ),
    (
        "DAIRY",
        "芝士片",
        "Cheese slices",
        "kg",
        "chilled",
        90,
        true,
        "case",
        10,
        7400,
    ),
    (
        "DAIRY",
        "马苏里拉芝士",
        "Mozzarella",
        "kg",
        "chilled",
        60,
        true,
        "case",
        10,
        6200,
    ),
    (
        "DAIRY", "鸡蛋", "Eggs", "kg", "chilled", 30, true, "case", 15, 1000,
    ),
    (
        "DAIRY",
        "原味酸奶",
        "Plain yoghurt",
        "kg",
        "chilled",
        21,
        true,
        "case",
        12,
        1500,
    ),
    (
        "GRAIN", "大米", "Rice", "kg", "ambient", 365, false, "bag", 25, 500,
    ),
    (
        "GRAIN",
        "高筋面粉",
        "Bread flour",
        "kg",
        "ambient",
        270,
        false,
        "bag",
        25,
        550,
    ),
    (
        "GRAIN",
        "低筋面粉",
        "Cake flour",
        "kg",
        "ambient",
        270,
        false,
        "bag",
        25,
        600,
    ),
    (
        "GRAIN",
        "面条",
        "Wheat noodles",
        "kg",
        "ambient",
        180,
        false,
        "case",
        10,
        800,
    ),
    (
        "GRAIN",
        "米粉",
        "Rice noodles",
        "kg",
        "ambient",
        180,
        false,
        "case",
        10,
        900,
    ),
    (
        "GRAIN",
        "汉堡面包",
        "Burger buns",
        "ea",
        "ambient",
        5,
        true,
        "case",
        48,
        120,
    ),
    (
        "GRAIN",
        "吐司",
        "Sliced bread",
        "kg",
        "ambient",
        5,
        true,
        "case",
        10,
        1200,
    ),
    (
        "GRAIN",
        "玉米饼",
        "Tortilla wraps",
        "ea",
        "ambient",
        30,
        true,
        "case",
        72,
        90,
    ),
    (
        "GRAIN",
        "大豆油",
        "Soybean oil",
        "l",
        "ambient",
        540,
        false,
        "drum",
        20,
        1000,
    ),
    (
        "GRAIN",
        "煎炸油",
        "Frying oil",
        "l",
        "ambient",
        540,
        false,
        "drum",
        20,
        1100,
    ),
    (
        "GRAIN",
        "橄榄油",
        "Olive oil",
        "l",
        "ambient",
        540,
        false,
        "case",
        6,
        6000,
    ),
    (
        "GRAIN",
        "面包糠",
        "Breadcrumbs",
        "kg",
        "ambient",
        270,
        false,
        "bag",
        10,
        900,
    ),
    (
        "GRAIN",
        "淀粉",
        "Corn starch",
        "kg",
        "ambient",
        540,
        false,
        "bag",
        25,
        500,
    ),
    (
        "SEAS", "食盐", "Salt", "kg", "ambient", 1080, false, "bag", 25, 200,
    ),
    (
        "SEAS",
        "白砂糖",
        "White sugar",
        "kg",
        "ambient",
        720,
        false,
        "bag",
        25,
        600,
    ),
    (
        "SEAS",
        "生抽",
        "Light soy sauce",
        "l",
        "ambient",
        540,
        false,
        "case",
        12,
        900,
    ),
    (
        "SEAS",
        "老抽",
        "Dark soy sauce",
        "l",
        "ambient",
        540,
        false,
        "case",
        12,
        1000,
    ),
    (
        "SEAS",
        "蚝油",
        "Oyster sauce",
        "kg",
        "ambient",
        540,
        false,
        "case",
        12,
        1400,
    ),
    (
        "SEAS",
        "香醋",
        "Black vinegar",
        "l",
        "ambient",
        720,
        false,
        "case",
        12,
        800,
    ),
    (
        "SEAS",
        "番茄酱",
        "Ketchup",
        "kg",
        "ambient",
        365,
        false,
        "case",
        12,
        1200,
    ),
    (
        "SEAS",
        "蛋黄酱",
        "Mayonnaise",
        "kg",
        "chilled",
        180,
        true,
        "case",
        12,
        2000,
    ),
    (
        "SEAS",
        "辣椒酱",
        "Chilli sauce",
        "kg",
        "ambient",
        365,
        false,
        "case",
        12,
        1600,
    ),
    (
        "SEAS",
        "豆瓣酱",
        "Broad-bean paste",
        "kg",
        "ambient",
        540,
        false,
        "case",
        12,
        1500,
    ),
    (
        "SEAS",
        "芝麻酱",
        "Sesame paste",
        "kg",
        "ambient",
        365,
        false,
        "case",
        12,
        3200,
    ),
    (
        "SEAS",
        "黑胡椒粉",
        "Black pepper",
        "kg",
        "ambient",
        720,
        false,
        "case",
        10,
        9000,
    ),
    (
        "SEAS",
        "花椒",
        "Sichuan pepper",
        "kg",
        "ambient",
        720,
        false,
        "case",
        5,
        12000,
    ),
    (
        "SEAS",
        "干辣椒",
        "Dried chilli",
        "kg",
        "ambient",
        540,
        false,
        "case",
        5,
        4000,
    ),
    (
        "SEAS",
        "鸡精",
        "Chicken bouillon",
        "kg",
        "ambient",
        540,
        false,
        "case",
        10,
        3000,
    ),
    (
        "SEAS",
        "咖喱块",
        "Curry roux",
        "kg",
        "ambient",
        365,
        false,
        "case",
        10,
        5000,
    ),
    (
        "SEAS",
        "烧烤酱",
        "Barbecue sauce",
        "kg",
        "ambient",
        365,
        false,
        "case",
        12,
        2400,
    ),
    (
        "SEAS",
        "沙拉酱",
        "Salad dressing",
        "kg",
        "chilled",
        180,
        true,
        "case",
        12,
        2200,
    ),
    (
        "DRYG",
        "木耳",
        "Wood-ear fungus",
        "kg",
        "ambient",
        720,
        false,
        "case",
        5,
        6000,
    ),
    (
        "DRYG",
        "紫菜",
        "Dried seaweed",
        "kg",
        "ambient",
        365,
        false,
        "case",
        2,
        15000,
    ),
    (
        "DRYG",
        "芝麻",
        "Sesame seeds",
        "kg",
        "ambient",
        365,
        false,
        "bag",
        10,
        2400,
    ),
    (
        "DRYG", "花生", "Peanuts", "kg", "ambient", 365, false, "bag", 10, 1600,
    ),
    (
        "DRYG",
        "红豆",
        "Red beans",
        "kg",
        "ambient",
        540,
        false,
        "bag",
        10,
        1000,
    ),
    (
        "DRYG", "腰果", "Cashews", "kg", "ambient", 365, false, "case", 5, 7000,
    ),
    (
        "BEVI",
        "咖啡豆",
        "Coffee beans",
        "kg",
        "ambient",
        270,
        true,
        "case",
        6,
        14000,
    ),
    (
        "BEVI",
        "红茶叶",
        "Black tea leaves",
        "kg",
        "ambient",
        540,
        false,
        "case",
        5,
        9000,
    ),
    (
        "BEVI",
        "绿茶叶",
        "Green tea leaves",
        "kg",
        "ambient",
        365,
        false,
        "case",
        5,
        11000,
    ),
    (
        "BEVI",
        "茉莉花茶",
        "Jasmine tea",
        "kg",
        "ambient",
        365,
        false,
        "case",
        5,
        10000,
    ),
    (
        "BEVI",
        "珍珠粉圆",
        "Tapioca pearls",
        "kg",
        "ambient",
        365,
        false,
        "case",
        12,
        1200,
    ),
    (
        "BEVI",
        "果糖",
        "Fructose syrup",
        "kg",
        "ambient",
        365,
        false,
        "case",
        12,
        900,
    ),
    (
        "BEVI",
        "椰浆",
        "Coconut milk",
        "l",
        "ambient",
        365,
        false,
        "case",
        24,
        1600,
    ),
    (
        "BEVI",
        "奶精粉",
        "Creamer powder",
        "kg",
        "ambient",
        540,
        false,
        "bag",
        25,
        1800,
    ),
    (
        "BEVI",
        "可可粉",
        "Cocoa powder",
        "kg",
        "ambient",
        540,
        false,
        "case",
        10,
        7000,
    ),
    (
        "BEVI",
        "抹茶粉",
        "Matcha powder",
        "kg",
        "ambient",
        365,
        false,
        "case",
        5,
        22000,
    ),
    (
        "BEVI",
        "冰块",
        "Ice cubes",
        "kg",
        "frozen",
        365,
        false,
        "bag",
        10,
        150,
    ),
    (
        "BEVI",
        "气泡水",
        "Soda water",
        "l",
        "ambient",
        365,
        false,
        "case",
        24,
        300,
    ),
    (
        "FROZ",
        "冷冻薯条",
        "Frozen fries",
        "kg",
        "frozen",
        540,
        true,
        "case",
        10,
        1400,
    ),
    (
        "FROZ",
        "冷冻薯饼",
        "Frozen hash browns",
        "kg",
        "frozen",
        540,
        true,
        "case",
        10,
        1800,
    ),
    (
        "FROZ",
        "速冻饺子",
        "Frozen dumplings",
        "kg",
        "frozen",
        365,
        true,
        "case",
        10,
        2400,
    ),
    (
        "FROZ",
        "冷冻鸡块",
        "Frozen chicken nuggets",
        "kg",
        "frozen",
        365,
        true,
        "case",
        10,
        3000,
    ),
    (
        "FROZ",
        "冰淇淋",
        "Ice cream",
        "l",
        "frozen",
        365,
        true,
        "case",
        6,
        3600,
    ),
    (
        "FROZ",
        "冷冻蛋挞皮",
        "Frozen tart shells",
        "ea",
        "frozen",
        270,
        true,
        "case",
        200,
        60,
    ),
    (
        "FROZ",
        "冷冻披萨饼底",
        "Frozen pizza bases",
        "ea",
        "frozen",
        270,
        true,
        "case",
        40,
        350,
    ),
    (
        "VEG", "豆腐", "Tofu", "kg", "chilled", 5, false, "case", 10, 500,
    ),
    (
        "VEG", "茄子", "Eggplant", "kg", "chilled", 7, false, "case", 10, 600,
    ),
    (
        "VEG",
        "小白菜",
        "Bok choy",
        "kg",
        "chilled",
        4,
        false,
        "case",
        10,
        700,
    ),
    (
        "VEG",
        "韭菜",
        "Chinese chives",
        "kg",
        "chilled",
        4,
        false,
        "case",
        5,
        900,
    ),
    (
        "VEG",
        "酸菜",
        "Pickled mustard greens",
        "kg",
        "chilled",
        60,
        false,
        "case",
        10,
        800,
    ),
    (
        "VEG", "芋头", "Taro", "kg", "ambient", 14, false, "bag", 10, 800,
    ),
    (
        "VEG", "芹菜", "Celery", "kg", "chilled", 7, false, "case", 10, 600,
    ),
    (
        "VEG",
        "鲜辣椒",
        "Fresh chilli",
        "kg",
        "chilled",
        7,
        false,
        "case",
        5,
        1600,
    ),
    (
        "FRUIT",
        "西柚",
        "Grapefruit",
        "kg",
        "chilled",
        21,
        false,
        "case",
        10,
        1000,
    ),
    (
        "MEAT",
        "牛骨",
        "Beef bones",
        "kg",
        "frozen",
        180,
        true,
        "case",
        20,
        800,
    ),
    (
        "DAIRY",
        "皮蛋",
        "Century eggs",
        "ea",
        "ambient",
        60,
        false,
        "case",
        60,
        80,
    ),
    (
        "DAIRY",
        "炼乳",
        "Condensed milk",
        "kg",
        "ambient",
        365,
        false,
        "case",
        12,
        1800,
    ),
    (
        "DAIRY",
        "奶油奶酪",
        "Cream cheese",
        "kg",
        "chilled",
        60,
        true,
        "case",
        10,
        6000,
    ),
    (
        "GRAIN",
        "糯米",
        "Glutinous rice",
        "kg",
        "ambient",
        365,
        false,
        "bag",
        25,
        800,
    ),
    (
        "GRAIN",
        "河粉",
        "Fresh rice noodles",
        "kg",
        "chilled",
        3,
        false,
        "case",
        10,
        700,
    ),
    (
        "GRAIN",
        "干酵母",
        "Dried yeast",
        "kg",
        "ambient",
        365,
        false,
        "case",
        10,
        4000,
    ),
    (
        "SEAS",
        "料酒",
        "Shaoxing wine",
        "l",
        "ambient",
        720,
        false,
        "case",
        12,
        800,
    ),
    (
        "SEAS",
        "八角",
        "Star anise",
        "kg",
        "ambient",
        720,
        false,
        "case",
        5,
        6000,
    ),
    (
        "SEAS",
        "五香粉",
        "Five-spice powder",
        "kg",
        "ambient",
        720,
        false,
        "case",
        5,
        5000,
    ),
    (
        "SEAS",
        "香油",
        "Sesame oil",
        "l",
        "ambient",
        540,
        false,
        "case",
        12,
        3000,
    ),
    (
        "SEAS",
        "味噌",
        "Miso paste",
        "kg",
        "chilled",
        180,
        false,
        "case",
        10,
        2400,
    ),
    (
        "SEAS",
        "冰糖",
        "Rock sugar",
        "kg",
        "ambient",
        720,
        false,
        "bag",
        10,
        1000,
    ),
    (
        "SEAS",
        "白胡椒粉",
        "White pepper",
        "kg",
        "ambient",
        720,
        false,
        "case",
        10,
        8000,
    ),
    (
        "SEAS",
        "巧克力酱",
        "Chocolate sauce",
        "kg",
        "ambient",
        365,
        false,
        "case",
        6,
        4000,
    ),
    (
        "DRYG",
        "西米",
        "Sago pearls",
        "kg",
        "ambient",
        365,
        false,
        "bag",
        10,
        1000,
    ),
    (
        "DRYG", "黄豆", "Soybeans", "kg", "ambient", 365, false, "bag", 25, 700,
    ),
    (
        "DRYG",
        "吉利丁片",
        "Gelatine sheets",
        "kg",
        "ambient",
        720,
        false,
        "case",
        1,
        30000,
    ),
];

/// Prepared items made in the central kitchen or in store: (Chinese, English, base unit,
/// storage, shelf life, cost per base unit in fen).
const PREPARED: &[(&str, &str, &str, &str, i64, i64)] = &[
    ("卤牛肉", "Braised beef", "kg", "chilled", 4, 9000),
    (
        "腌制鸡腿",
        "Marinated chicken thigh",
        "kg",
        "chilled",
        2,
        3000,
    ),
    (
        "炸鸡裹粉",
        "Fried-chicken batter mix",
        "kg",
        "ambient",
        30,
        900,
    ),
    ("秘制酱汁", "House sauce", "kg", "chilled", 7, 2400),
    ("红烧汁", "Braising sauce", "l", "chilled", 7, 1800),
    ("高汤", "Stock", "l", "chilled", 3, 500),
    ("白米饭", "Steamed rice", "kg", "ambient", 1, 600),
    ("奶茶基底", "Milk-tea base", "l", "chilled", 2, 1400),
    (
        "煮好珍珠",
        "Cooked tapioca pearls",
        "kg",
        "ambient",
        1,
        1500,
    ),
    ("切配蔬菜", "Cut vegetable mix", "kg", "chilled", 2, 1200),
    ("沙拉菜", "Salad mix", "kg", "chilled", 2, 1400),
    ("披萨酱", "Pizza sauce", "kg", "chilled", 7, 1600),
    ("饺子馅", "Dumpling filling", "kg", "chilled", 2, 2800),
    ("蛋挞液", "Egg-tart custard", "l", "chilled", 2, 2200),
    ("咖啡浓缩液", "Espresso base", "l", "chilled", 1, 6000),
    ("柠檬茶基底", "Lemon-tea base", "l", "chilled", 2, 900),
    ("红豆馅", "Red-bean paste", "kg", "chilled", 5, 1600),
    ("面团", "Dough", "kg", "chilled", 2, 700),
    ("卤蛋", "Marinated eggs", "ea", "chilled", 3, 90),
    ("肉酱", "Meat sauce", "kg", "chilled", 4, 3400),
    ("宫保汁", "Kung pao sauce", "l", "chilled", 7, 850),
    ("鱼香汁", "Yu-xiang sauce", "l", "chilled", 7, 1000),
    ("照烧汁", "Teriyaki sauce", "l", "chilled", 14, 800),
    ("咖喱酱", "Curry sauce", "kg", "chilled", 4, 1300),
    ("黑椒汁", "Black-pepper sauce", "l", "chilled", 7, 1400),
    ("红油", "Chilli oil", "l", "ambient", 60, 1600),
    (
        "腌制牛柳",
        "Marinated beef strips",
        "kg",
        "chilled",
        2,
        10000,
    ),
    (
        "腌制肉丝",
        "Marinated pork strips",
        "kg",
        "chilled",
        2,
        2800,
    ),
    (
        "腌制鸡翅",
        "Marinated chicken wings",
        "kg",
        "chilled",
        2,
        3700,
    ),
    ("卤肉", "Braised pork belly", "kg", "chilled", 4, 4100),
    ("牛骨汤", "Beef broth", "l", "chilled", 3, 400),
    ("饺子皮", "Dumpling wrappers", "kg", "chilled", 2, 360),
    ("虾仁馅", "Shrimp filling", "kg", "chilled", 2, 5000),
    ("叉烧", "Char siu", "kg", "chilled", 4, 4900),
    ("糖浆", "Simple syrup", "l", "chilled", 14, 360),
    ("炸酱", "Zhajiang sauce", "kg", "chilled", 5, 1500),
    ("蒜蓉酱", "Garlic sauce", "kg", "chilled", 5, 1200),
    ("芒果泥", "Mango purée", "kg", "chilled", 2, 2300),
    ("糖醋汁", "Sweet-and-sour sauce", "l", "chilled", 14, 750),
    ("发面面团", "Steamed-bun dough", "kg", "chilled", 1, 430),
    ("酸菜鱼汤底", "Pickled-fish broth", "l", "chilled", 3, 800),
    ("熟西米", "Cooked sago", "kg", "chilled", 1, 300),
    ("芋圆", "Taro balls", "kg", "chilled", 3, 750),
];

/// Sub-recipes made to order (not kept in stock; exploded into their ingredients when
/// used): (Chinese, English, base unit).
const MADE_TO_ORDER: &[(&str, &str, &str)] = &[
    ("煎蛋", "Fried egg", "ea"),
    ("葱花香菜", "Chopped herbs", "kg"),
];

/// Menu items: (category, Chinese, English, price in fen).
const MENU: &[(&str, &str, &str, i64)] = &[
    ("MAIN", "经典牛肉汉堡", "Classic beef burger", 3200),
    ("MAIN", "双层芝士汉堡", "Double cheeseburger", 4200),
    ("MAIN", "香辣鸡腿堡", "Spicy chicken burger", 2800),
    ("MAIN", "鳕鱼堡", "Fish burger", 2900),
    ("MAIN", "培根蛋堡", "Bacon & egg burger", 2600),
    ("MAIN", "照烧鸡腿饭", "Teriyaki chicken rice", 2800),
    ("MAIN", "红烧牛腩饭", "Braised beef brisket rice", 3800),
    ("MAIN", "咖喱鸡饭", "Chicken curry rice", 3000),
    ("MAIN", "宫保鸡丁饭", "Kung pao chicken rice", 2600),
    ("MAIN", "鱼香肉丝饭", "Yu-xiang pork rice", 2800),
    ("MAIN", "卤肉饭", "Braised pork rice", 2400),
    ("MAIN", "扬州炒饭", "Yangzhou fried rice", 2600),
    ("MAIN", "牛肉面", "Beef noodle soup", 3200),
    ("MAIN", "酸辣粉", "Hot & sour noodles", 2200),
    ("MAIN", "肉酱意面", "Spaghetti bolognese", 2800),
    ("MAIN", "炸酱面", "Zhajiang noodles", 2600),
    ("MAIN", "鲜虾云吞面", "Shrimp wonton noodles", 3400),
    ("MAIN", "三文鱼饭", "Salmon rice bowl", 4800),
    ("MAIN", "玛格丽特披萨", "Margherita pizza", 4800),
    ("MAIN", "培根披萨", "Bacon pizza", 5400),
    ("MAIN", "鸡肉卷", "Chicken wrap", 2400),
    ("MAIN", "牛肉卷", "Beef wrap", 2800),
    ("MAIN", "猪肉饺子", "Pork dumplings", 2200),
    ("MAIN", "鲜虾饺子", "Shrimp dumplings", 2800),
    ("MAIN", "肥牛饭", "Beef bowl", 3400),
    ("MAIN", "黑椒牛柳饭", "Black-pepper beef rice", 3800),
    ("MAIN", "番茄鸡蛋面", "Tomato & egg noodles", 2200),
    ("MAIN", "羊肉泡馍", "Lamb bread soup", 3600),
    ("MAIN", "鸭胸饭", "Duck breast rice", 4200),
    ("MAIN", "鸡排饭", "Chicken cutlet rice", 2800),
    ("SIDE", "薯条", "French fries", 1200),
    ("SIDE", "大份薯条", "Large fries", 1600),
    ("SIDE", "薯饼", "Hash brown", 900),
    ("SIDE", "鸡块", "Chicken nuggets", 1500),
    ("SIDE", "香辣鸡翅", "Spicy wings", 1800),
    ("SIDE", "鱿鱼圈", "Fried squid rings", 1800),
    ("SIDE", "蔬菜沙拉", "Garden salad", 1600),
    ("SIDE", "鸡肉沙拉", "Chicken salad", 2400),
    ("SIDE", "玉米杯", "Corn cup", 900),
    ("SIDE", "卤蛋", "Marinated egg", 400),
    ("SIDE", "拍黄瓜", "Smashed cucumber", 1000),
    ("SIDE", "凉拌木耳", "Wood-ear salad", 1200),
    ("SIDE", "炸饺子", "Fried dumplings", 1400),
    ("SIDE", "芝士条", "Mozzarella sticks", 1600),
    ("SIDE", "洋葱圈", "Onion rings", 1000),
    ("SIDE", "烤肠", "Grilled sausage", 800),
    ("SIDE", "味噌汤", "Miso soup", 600),
    ("SIDE", "紫菜蛋花汤", "Seaweed egg soup", 600),
    ("SIDE", "蒜蓉西兰花", "Garlic broccoli", 1400),
    ("SIDE", "炒青菜", "Stir-fried greens", 1200),
    ("DRINK", "珍珠奶茶", "Bubble milk tea", 1500),
    ("DRINK", "原味奶茶", "Milk tea", 1200),
    ("DRINK", "柠檬红茶", "Lemon black tea", 1000),
    ("DRINK", "茉莉绿茶", "Jasmine green tea", 800),
    ("DRINK", "抹茶拿铁", "Matcha latte", 2200),
    ("DRINK", "美式咖啡", "Americano", 1600),
    ("DRINK", "拿铁", "Caffè latte", 2200),
    ("DRINK", "卡布奇诺", "Cappuccino", 2000),
    ("DRINK", "热可可", "Hot chocolate", 1800),
    ("DRINK", "鲜榨橙汁", "Fresh orange juice", 1800),
    ("DRINK", "芒果冰沙", "Mango smoothie", 2000),
    ("DRINK", "草莓奶昔", "Strawberry shake", 2200),
    ("DRINK", "椰奶西米露", "Coconut sago", 1600),
    ("DRINK", "柠檬苏打", "Lemon soda", 1000),
    ("DRINK", "酸奶杯", "Yoghurt cup", 1400),
    ("DRINK", "豆浆", "Soy milk", 400),
    ("DRINK", "红豆奶茶", "Red-bean milk tea", 1400),
    ("DRINK", "椰子拿铁", "Coconut latte", 2200),
    ("DRINK", "冰美式", "Iced americano", 1700),
    ("DRINK", "西瓜汁", "Watermelon juice", 1200),
    ("DESS", "葡式蛋挞", "Portuguese egg tart", 800),
    ("DESS", "香草冰淇淋", "Vanilla ice cream", 1000),
    ("DESS", "巧克力圣代", "Chocolate sundae", 1400),
    ("DESS", "草莓圣代", "Strawberry sundae", 1400),
    ("DESS", "芒果布丁", "Mango pudding", 1200),
    ("DESS", "红豆冰", "Red-bean ice", 1000),
    ("DESS", "香蕉船", "Banana split", 1800),
    ("DESS", "抹茶蛋糕", "Matcha cake", 2200),
    ("DESS", "芝士蛋糕", "Cheesecake", 2400),
    ("DESS", "水果杯", "Fruit cup", 1600),
    ("MAIN", "麻婆豆腐饭", "Mapo tofu rice", 2000),
    ("MAIN", "回锅肉饭", "Twice-cooked pork rice", 2600),
    ("MAIN", "糖醋里脊饭", "Sweet & sour pork rice", 2800),
    ("MAIN", "水煮鱼", "Sichuan poached fish", 5800),
    ("MAIN", "酸菜鱼", "Pickled-cabbage fish", 5600),
    ("MAIN", "叉烧饭", "Char siu rice", 3200),
    ("MAIN", "白切鸡饭", "Poached chicken rice", 3200),
    ("MAIN", "担担面", "Dan dan noodles", 2000),
    ("MAIN", "干炒牛河", "Beef ho fun", 3400),
    ("MAIN", "西红柿炒蛋饭", "Tomato & egg rice", 1800),
    ("MAIN", "地三鲜饭", "Di san xian rice", 1800),
    ("MAIN", "鱼香茄子饭", "Yu-xiang eggplant rice", 2000),
    ("MAIN", "红烧肉饭", "Red-braised pork rice", 3000),
    ("MAIN", "糖醋排骨饭", "Sweet & sour ribs rice", 3800),
    ("MAIN", "黄焖鸡米饭", "Braised chicken rice", 2800),
    ("MAIN", "韭菜猪肉水饺", "Pork & chive dumplings", 2200),
    ("MAIN", "鲜肉馄饨", "Pork wonton soup", 1800),
    ("MAIN", "葱油拌面", "Scallion oil noodles", 1400),
    ("MAIN", "皮蛋瘦肉粥", "Century egg & pork congee", 1600),
    ("MAIN", "火腿蛋炒饭", "Egg fried rice with ham", 1500),
    ("MAIN", "咖喱牛腩饭", "Beef curry rice", 3800),
    ("MAIN", "肉夹馍", "Rou jia mo", 1800),
    ("MAIN", "小笼包", "Xiaolongbao", 1800),
    ("SIDE", "叉烧包", "Char siu buns", 1600),
    ("SIDE", "口水鸡", "Mouth-watering chicken", 2800),
    ("SIDE", "锅贴", "Potstickers", 1300),
    ("SIDE", "春卷", "Spring rolls", 1000),
    ("SIDE", "葱油饼", "Scallion pancake", 800),
    ("SIDE", "油条", "Fried dough stick", 400),
    ("SIDE", "皮蛋豆腐", "Century egg tofu", 1200),
    ("SIDE", "酸辣土豆丝", "Hot & sour potato shreds", 1000),
    ("SIDE", "可乐鸡翅", "Cola chicken wings", 2400),
    ("SIDE", "椒盐鱿鱼", "Salt & pepper squid", 2000),
    ("SIDE", "蟹柳沙拉", "Crab stick salad", 1600),
    ("DRINK", "杨枝甘露", "Mango pomelo sago", 2200),
    ("DRINK", "芋圆奶茶", "Taro ball milk tea", 1600),
    ("DRINK", "冻柠茶", "Iced lemon tea", 1200),
    ("DESS", "双皮奶", "Double-skin milk pudding", 1400),
    ("DESS", "芋圆西米露", "Taro sago", 1600),
    ("DESS", "芝麻汤圆", "Glutinous rice balls", 1000),
];

/// Packaging: (Chinese, English, base unit, pack unit, per pack, fen per base unit).
const PACKAGING: &[(&str, &str, &str, &str, i64, i64)] = &[
    ("汉堡盒", "Burger box", "ea", "case", 500, 35),
    ("薯条袋", "Fries bag", "ea", "case", 1000, 8),
    ("纸杯 12oz", "Paper cup 12 oz", "ea", "case", 1000, 30),
    ("纸杯 16oz", "Paper cup 16 oz", "ea", "case", 1000, 38),
    ("塑料杯 500ml", "Plastic cup 500 ml", "ea", "case", 1000, 28),
    ("杯盖", "Cup lids", "ea", "case", 1000, 10),
    ("粗吸管", "Boba straws", "ea", "case", 2000, 4),
    ("吸管", "Straws", "ea", "case", 5000, 2),
    ("外卖袋", "Take-away bag", "ea", "case", 500, 25),
    ("餐盒 750ml", "Meal box 750 ml", "ea", "case", 300, 60),
    ("汤碗", "Soup bowl", "ea", "case", 500, 45),
    ("一次性筷子", "Disposable chopsticks", "ea", "case", 2000, 6),
    ("一次性勺子", "Disposable spoons", "ea", "case", 2000, 5),
    ("餐巾纸", "Napkins", "ea", "case", 5000, 1),
    ("披萨盒", "Pizza box", "ea", "case", 200, 120),
    ("蛋挞托", "Tart trays", "ea", "case", 1000, 12),
    ("封口膜", "Cup sealing film", "m", "roll", 3000, 3),
    ("保鲜膜", "Cling film", "m", "roll", 300, 20),
    ("锡纸", "Aluminium foil", "m", "roll", 100, 60),
    ("手套", "Food gloves", "ea", "case", 1000, 4),
];

/// Retail brands × products: (brand zh, brand en) and (product zh, product en, unit size,
/// fen per each).
const BRANDS: &[(&str, &str)] = &[
    ("可口可乐", "Coca-Cola"),
    ("百事", "Pepsi"),
    ("农夫山泉", "Nongfu Spring"),
    ("康师傅", "Master Kong"),
    ("统一", "Uni-President"),
    ("元气森林", "Genki Forest"),
    ("娃哈哈", "Wahaha"),
    ("蒙牛", "Mengniu"),
    ("伊利", "Yili"),
    ("旺旺", "Want Want"),
    ("乐事", "Lay's"),
    ("奥利奥", "Oreo"),
    ("德芙", "Dove"),
    ("三只松鼠", "Three Squirrels"),
    ("良品铺子", "Bestore"),
    ("好丽友", "Orion"),
    ("雀巢", "Nestlé"),
    ("红牛", "Red Bull"),
    ("王老吉", "Wong Lo Kat"),
    ("维他", "Vita"),
];

const RETAIL_PRODUCTS: &[(&str, &str, &str, &str, i64)] = &[
    ("RBEV", "汽水", "soda", "330 ml can", 250),
    ("RBEV", "瓶装饮料", "bottled drink", "500 ml bottle", 320),
    ("RBEV", "饮用水", "water", "550 ml bottle", 150),
    ("RBEV", "茶饮料", "iced tea", "500 ml bottle", 300),
    ("RBEV", "果汁", "juice", "450 ml bottle", 420),
    ("RBEV", "乳饮料", "milk drink", "250 ml pack", 280),
    ("RSNK", "薯片", "crisps", "70 g bag", 450),
    ("RSNK", "饼干", "biscuits", "100 g pack", 380),
    ("RSNK", "巧克力", "chocolate", "43 g bar", 520),
    ("RSNK", "坚果", "mixed nuts", "150 g bag", 1800),
    ("RGRO", "方便面", "instant noodles", "110 g pack", 350),
];

/// Supplies: (Chinese, English, base unit, fen per unit).
const SUPPLIES: &[(&str, &str, &str, i64)] = &[
    ("洗洁精", "Dish soap", "l", 800),
    ("消毒液", "Sanitiser", "l", 1200),
    ("地板清洁剂", "Floor cleaner", "l", 1000),
    ("垃圾袋", "Bin bags", "ea", 20),
    ("抹布", "Cleaning cloths", "ea", 150),
    ("洗手液", "Hand soap", "l", 1500),
    ("厨房纸", "Kitchen towel", "roll", 400),
    ("钢丝球", "Scourers", "ea", 80),
    ("打印纸卷", "Receipt paper roll", "roll", 250),
    ("温度计电池", "Thermometer batteries", "ea", 300),
];

/// Recipes, one per line: `output [@ yield]: component qty unit [yield %]; …`. The yield is
/// in the output's base unit (default 1); quantities are net, in recipe units (g, ml, ea), and
/// a line yield gives the usable share of what is taken (peeled, trimmed, juiced). Sub-recipes
/// made to order come before the recipes that use them.
const RECIPES: &str = "
Fried egg: Eggs 55 g; Soybean oil 5 ml
Chopped herbs: Spring onion 600 g 90%; Coriander 400 g 85%
Stock @ 20: Whole chicken 6000 g; Onion 1000 g 90%; Carrot 1000 g 90%; Ginger 200 g 90%; Spring onion 200 g 90%; Salt 100 g
Beef broth @ 20: Beef bones 8000 g; Onion 1000 g 90%; Ginger 300 g 90%; Star anise 30 g; Salt 150 g; Light soy sauce 500 ml
Braising sauce @ 10: Light soy sauce 3000 ml; Dark soy sauce 1000 ml; Shaoxing wine 1500 ml; Rock sugar 800 g; Stock 4000 ml; Star anise 50 g; Ginger 300 g 90%
Braised beef @ 10: Beef brisket 14000 g; Braising sauce 3000 ml; Ginger 200 g 90%; Spring onion 200 g 90%; Star anise 30 g; Rock sugar 200 g
Marinated chicken thigh @ 10: Boneless chicken thigh 10000 g; Light soy sauce 300 ml; Shaoxing wine 200 ml; Garlic 150 g 85%; Ginger 100 g 90%; Corn starch 200 g; White pepper 20 g
Fried-chicken batter mix @ 10: Cake flour 6000 g; Corn starch 3000 g; Salt 300 g; Black pepper 100 g; Five-spice powder 100 g; Chicken bouillon 500 g
House sauce @ 10: Mayonnaise 6000 g; Ketchup 2500 g; Chilli sauce 800 g; Garlic 300 g 85%; White sugar 400 g
Steamed rice @ 10: Rice 4500 g
Milk-tea base @ 10: Black tea leaves 250 g; Creamer powder 1000 g; Fructose syrup 800 g; Whole milk 2000 ml
Cooked tapioca pearls @ 5: Tapioca pearls 2500 g; White sugar 500 g
Cut vegetable mix @ 10: Cabbage 4000 g 85%; Carrot 2500 g 90%; Onion 2000 g 90%; Green pepper 1500 g 85%
Salad mix @ 5: Lettuce 3000 g 80%; Tomato 1000 g 95%; Cucumber 1000 g 95%
Pizza sauce @ 10: Tomato 9000 g 90%; Olive oil 300 ml; Garlic 200 g 85%; Salt 100 g; White sugar 200 g; Onion 1000 g 90%
Dumpling filling @ 10: Minced pork 6000 g; Cabbage 3000 g 85%; Spring onion 400 g 90%; Ginger 150 g 90%; Light soy sauce 300 ml; Sesame oil 100 ml; Salt 80 g
Egg-tart custard @ 5: Whole milk 2000 ml; Whipping cream 1500 ml; Eggs 1200 g; White sugar 600 g; Condensed milk 300 g
Espresso base: Coffee beans 500 g
Lemon-tea base @ 10: Black tea leaves 150 g; Lemon 1000 g 90%; Fructose syrup 1000 g
Red-bean paste @ 10: Red beans 5000 g; White sugar 2500 g; Soybean oil 300 ml
Dough @ 10: Bread flour 6000 g; Olive oil 200 ml; Dried yeast 60 g; Salt 120 g; White sugar 100 g
Marinated eggs @ 30: Eggs 1800 g; Braising sauce 1500 ml; Star anise 10 g
Meat sauce @ 10: Minced pork 4000 g; Tomato 3000 g 90%; Onion 1500 g 90%; Carrot 1000 g 90%; Ketchup 800 g; Olive oil 200 ml; Stock 1000 ml
Kung pao sauce @ 5: Light soy sauce 1500 ml; Black vinegar 1000 ml; White sugar 1000 g; Shaoxing wine 500 ml; Corn starch 200 g; Stock 1500 ml
Yu-xiang sauce @ 5: Broad-bean paste 800 g; Black vinegar 800 ml; White sugar 800 g; Light soy sauce 800 ml; Garlic 300 g 85%; Ginger 200 g 90%; Spring onion 200 g 90%; Stock 1500 ml
Teriyaki sauce @ 5: Light soy sauce 2000 ml; White sugar 1000 g; Shaoxing wine 1000 ml; Ginger 100 g 90%; Corn starch 100 g; Fructose syrup 500 g
Curry sauce @ 10: Curry roux 1500 g; Onion 2000 g 90%; Carrot 1500 g 90%; Potato 2000 g 85%; Stock 4000 ml; Coconut milk 500 ml
Black-pepper sauce @ 5: Black pepper 150 g; Oyster sauce 800 g; Butter 300 g; Onion 1000 g 90%; Stock 2500 ml; Dark soy sauce 300 ml; Corn starch 100 g
Chilli oil @ 5: Soybean oil 4500 ml; Dried chilli 500 g; Sichuan pepper 100 g; Sesame seeds 100 g; Ginger 100 g 90%
Marinated beef strips @ 8.5: Beef tenderloin 7000 g; Corn starch 500 g; Light soy sauce 300 ml; Eggs 500 g; Soybean oil 300 ml
Marinated pork strips @ 10: Pork loin 8500 g; Corn starch 500 g; Light soy sauce 300 ml; Shaoxing wine 200 ml; Eggs 500 g
Marinated chicken wings @ 10: Chicken wing mid 10000 g; Light soy sauce 300 ml; Oyster sauce 300 g; Garlic 200 g 85%; Chilli sauce 200 g; White sugar 100 g
Braised pork belly @ 8: Pork belly 10000 g; Braising sauce 2000 ml; Shiitake mushroom 500 g; Rock sugar 200 g; Five-spice powder 30 g
Dumpling wrappers @ 10: Bread flour 6500 g; Salt 60 g
Shrimp filling @ 5: Peeled shrimp 2000 g; Minced pork 2500 g; Spring onion 200 g 90%; Ginger 80 g 90%; Corn starch 100 g; Sesame oil 50 ml; Salt 40 g
Char siu @ 7: Pork loin 10000 g; White sugar 800 g; Light soy sauce 500 ml; Oyster sauce 500 g; Fructose syrup 500 g; Five-spice powder 50 g; Shaoxing wine 300 ml
Simple syrup @ 10: White sugar 6000 g
Zhajiang sauce @ 10: Minced pork 4000 g; Broad-bean paste 2000 g; Oyster sauce 500 g; Soybean oil 500 ml; White sugar 300 g; Spring onion 300 g 90%
Garlic sauce @ 5: Garlic 3000 g 85%; Soybean oil 1500 ml; Salt 80 g; White sugar 100 g; Chicken bouillon 100 g
Mango purée @ 5: Mango 5000 g 70%; White sugar 300 g
Sweet-and-sour sauce @ 5: Ketchup 1500 g; White sugar 1200 g; Black vinegar 1000 ml; Light soy sauce 300 ml; Corn starch 150 g
Steamed-bun dough @ 10: Cake flour 6000 g; Dried yeast 60 g; White sugar 400 g; Soybean oil 200 ml
Pickled-fish broth @ 10: Pickled mustard greens 2000 g; Stock 8000 ml; Fresh chilli 200 g; Sichuan pepper 50 g; Garlic 200 g 85%; Ginger 100 g 90%; Soybean oil 300 ml
Cooked sago @ 5: Sago pearls 1500 g
Taro balls @ 5: Taro 3000 g 85%; Corn starch 1500 g; White sugar 300 g
Classic beef burger: Burger buns 1 ea; Beef patty 120 g; Lettuce 20 g 90%; Tomato 30 g 95%; House sauce 20 g; Onion 15 g 90%; Burger box 1 ea
Double cheeseburger: Burger buns 1 ea; Beef patty 160 g; Cheese slices 30 g; House sauce 20 g; Onion 15 g 90%; Burger box 1 ea
Spicy chicken burger: Burger buns 1 ea; Marinated chicken thigh 150 g; Fried-chicken batter mix 30 g; Frying oil 30 ml; Lettuce 20 g 90%; House sauce 20 g; Chilli sauce 10 g; Burger box 1 ea
Fish burger: Burger buns 1 ea; Basa fillet 130 g; Breadcrumbs 20 g; Frying oil 30 ml; Cheese slices 20 g; Mayonnaise 20 g; Burger box 1 ea
Bacon & egg burger: Burger buns 1 ea; Bacon 50 g; Fried egg 1 ea; Cheese slices 20 g; Lettuce 15 g 90%; House sauce 15 g; Burger box 1 ea
Teriyaki chicken rice: Steamed rice 250 g; Marinated chicken thigh 200 g; Teriyaki sauce 40 ml; Broccoli 50 g 85%; Carrot 20 g 90%; Sesame seeds 2 g
Braised beef brisket rice: Steamed rice 250 g; Braised beef 110 g; Braising sauce 30 ml; Bok choy 60 g 85%
Chicken curry rice: Steamed rice 250 g; Curry sauce 200 g; Boneless chicken thigh 150 g
Kung pao chicken rice: Steamed rice 250 g; Chicken breast 180 g; Kung pao sauce 40 ml; Peanuts 25 g; Dried chilli 5 g; Cucumber 40 g 95%; Spring onion 10 g 90%; Soybean oil 15 ml
Yu-xiang pork rice: Steamed rice 250 g; Marinated pork strips 150 g; Yu-xiang sauce 50 ml; Carrot 40 g 90%; Wood-ear fungus 8 g; Green pepper 40 g 85%; Soybean oil 15 ml
Braised pork rice: Steamed rice 250 g; Braised pork belly 120 g; Marinated eggs 1 ea; Bok choy 50 g 85%
Yangzhou fried rice: Steamed rice 300 g; Eggs 60 g; Sliced ham 40 g; Peeled shrimp 40 g; Green peas 20 g; Sweet corn kernels 20 g; Spring onion 10 g 90%; Soybean oil 20 ml; Salt 2 g
Beef noodle soup: Wheat noodles 180 g; Braised beef 70 g; Beef broth 450 ml; Bok choy 40 g 85%; Chopped herbs 10 g; Chilli oil 10 ml; Soup bowl 1 ea
Hot & sour noodles: Rice noodles 180 g; Stock 350 ml; Chilli oil 15 ml; Black vinegar 20 ml; Peanuts 15 g; Bean sprouts 40 g; Chopped herbs 10 g; Minced pork 30 g; Soup bowl 1 ea
Spaghetti bolognese: Wheat noodles 180 g; Meat sauce 250 g; Mozzarella 15 g; Olive oil 10 ml
Zhajiang noodles: Wheat noodles 200 g; Zhajiang sauce 150 g; Cucumber 50 g 95%; Bean sprouts 30 g; Carrot 20 g 90%; Marinated eggs 1 ea
Shrimp wonton noodles: Wheat noodles 150 g; Shrimp filling 100 g; Dumpling wrappers 60 g; Stock 400 ml; Bok choy 40 g 85%; Chopped herbs 5 g; Soup bowl 1 ea
Salmon rice bowl: Steamed rice 220 g; Salmon fillet 80 g 95%; Avocado 40 g 75%; Cucumber 30 g 95%; Light soy sauce 15 ml; Sesame seeds 2 g; Dried seaweed 1 g
Margherita pizza: Dough 250 g; Pizza sauce 80 g; Mozzarella 150 g; Olive oil 10 ml; Tomato 50 g 95%; Pizza box 1 ea
Bacon pizza: Frozen pizza bases 1 ea; Pizza sauce 80 g; Mozzarella 130 g; Bacon 60 g; Onion 30 g 90%; Green pepper 30 g 85%; Pizza box 1 ea
Chicken wrap: Tortilla wraps 1 ea; Marinated chicken thigh 120 g; Lettuce 30 g 90%; Tomato 30 g 95%; Salad dressing 20 g; Cheese slices 15 g
Beef wrap: Tortilla wraps 1 ea; Sliced beef rolls 90 g; Onion 30 g 90%; Lettuce 30 g 90%; House sauce 20 g
Pork dumplings: Dumpling filling 240 g; Dumpling wrappers 120 g; Black vinegar 15 ml; Chilli oil 5 ml
Shrimp dumplings: Shrimp filling 150 g; Dumpling wrappers 100 g; Black vinegar 15 ml
Beef bowl: Steamed rice 250 g; Sliced beef rolls 120 g; Onion 60 g 90%; Teriyaki sauce 40 ml; Fried egg 1 ea
Black-pepper beef rice: Steamed rice 250 g; Marinated beef strips 100 g; Black-pepper sauce 40 ml; Onion 40 g 90%; Green pepper 40 g 85%
Tomato & egg noodles: Wheat noodles 180 g; Tomato 150 g 95%; Eggs 100 g; Stock 300 ml; Spring onion 5 g 90%; Soup bowl 1 ea
Lamb bread soup: Sliced lamb rolls 100 g; Stock 400 ml; Bread flour 120 g; Wood-ear fungus 3 g; Chopped herbs 10 g; Soup bowl 1 ea
Duck breast rice: Steamed rice 250 g; Duck breast 200 g 90%; Braising sauce 40 ml; Bok choy 60 g 85%
Chicken cutlet rice: Steamed rice 250 g; Chicken breast 180 g; Breadcrumbs 30 g; Eggs 20 g; Frying oil 40 ml; Cabbage 50 g 85%; Salad dressing 15 g
French fries: Frozen fries 150 g; Frying oil 15 ml; Salt 1 g; Ketchup 20 g; Fries bag 1 ea
Large fries: Frozen fries 220 g; Frying oil 25 ml; Ketchup 30 g; Fries bag 1 ea
Hash brown: Frozen hash browns 100 g; Frying oil 10 ml
Chicken nuggets: Frozen chicken nuggets 130 g; Frying oil 15 ml; Barbecue sauce 25 g
Spicy wings: Marinated chicken wings 150 g; Fried-chicken batter mix 20 g; Frying oil 20 ml; Chilli sauce 10 g
Fried squid rings: Squid rings 120 g; Fried-chicken batter mix 25 g; Frying oil 20 ml; Mayonnaise 20 g
Garden salad: Salad mix 180 g; Salad dressing 30 g; Sweet corn kernels 20 g; Eggs 30 g; Avocado 30 g 75%
Chicken salad: Salad mix 150 g; Chicken breast 100 g; Salad dressing 30 g; Sweet corn kernels 20 g; Eggs 30 g; Avocado 20 g 75%
Corn cup: Sweet corn kernels 150 g; Butter 10 g; Salt 1 g
Marinated egg: Marinated eggs 1 ea
Smashed cucumber: Cucumber 250 g 95%; Garlic sauce 20 g; Black vinegar 10 ml; Chilli oil 8 ml; Sesame oil 3 ml
Wood-ear salad: Wood-ear fungus 40 g; Garlic sauce 20 g; Black vinegar 15 ml; Chilli oil 10 ml; Chopped herbs 10 g; Fresh chilli 5 g
Fried dumplings: Frozen dumplings 170 g; Soybean oil 15 ml
Mozzarella sticks: Mozzarella 70 g; Breadcrumbs 25 g; Eggs 20 g; Frying oil 20 ml
Onion rings: Onion 200 g 85%; Fried-chicken batter mix 50 g; Breadcrumbs 30 g; Frying oil 30 ml; Ketchup 25 g
Grilled sausage: Taiwanese sausage 70 g
Miso soup: Miso paste 25 g; Tofu 50 g; Dried seaweed 1 g; Spring onion 3 g 90%; Stock 100 ml
Seaweed egg soup: Dried seaweed 2 g; Eggs 30 g; Stock 200 ml; Spring onion 3 g 90%; Sesame oil 2 ml
Garlic broccoli: Broccoli 250 g 85%; Garlic sauce 25 g; Soybean oil 10 ml; Oyster sauce 10 g
Stir-fried greens: Bok choy 300 g 85%; Garlic 10 g 85%; Soybean oil 10 ml; Oyster sauce 10 g
Bubble milk tea: Milk-tea base 300 ml; Cooked tapioca pearls 60 g; Fructose syrup 20 g; Ice cubes 100 g; Plastic cup 500 ml 1 ea; Boba straws 1 ea
Milk tea: Milk-tea base 350 ml; Ice cubes 100 g; Plastic cup 500 ml 1 ea; Straws 1 ea
Lemon black tea: Lemon-tea base 350 ml; Lemon 40 g 90%; Ice cubes 120 g; Plastic cup 500 ml 1 ea; Straws 1 ea
Jasmine green tea: Jasmine tea 10 g; Simple syrup 30 ml; Ice cubes 150 g; Plastic cup 500 ml 1 ea; Straws 1 ea
Matcha latte: Matcha powder 10 g; Whole milk 250 ml; Simple syrup 20 ml; Paper cup 12 oz 1 ea; Cup lids 1 ea
Americano: Espresso base 60 ml; Paper cup 12 oz 1 ea; Cup lids 1 ea
Caffè latte: Espresso base 60 ml; Whole milk 220 ml; Paper cup 12 oz 1 ea; Cup lids 1 ea
Cappuccino: Espresso base 60 ml; Whole milk 160 ml; Paper cup 12 oz 1 ea; Cup lids 1 ea
Hot chocolate: Cocoa powder 25 g; Whole milk 250 ml; White sugar 15 g; Whipping cream 20 ml; Paper cup 12 oz 1 ea; Cup lids 1 ea
Fresh orange juice: Orange 300 g 55%; Plastic cup 500 ml 1 ea; Straws 1 ea
Mango smoothie: Mango purée 150 g; Plain yoghurt 80 g; Ice cubes 150 g; Simple syrup 20 ml; Plastic cup 500 ml 1 ea; Boba straws 1 ea
Strawberry shake: Strawberry 80 g 90%; Ice cream 80 ml; Whole milk 150 ml; Plastic cup 500 ml 1 ea; Boba straws 1 ea
Coconut sago: Coconut milk 150 ml; Cooked sago 60 g; Whole milk 100 ml; Simple syrup 20 ml; Plastic cup 500 ml 1 ea; Boba straws 1 ea
Lemon soda: Lemon 60 g 90%; Soda water 300 ml; Simple syrup 30 ml; Ice cubes 100 g; Plastic cup 500 ml 1 ea; Straws 1 ea
Yoghurt cup: Plain yoghurt 200 g; Fructose syrup 15 g; Strawberry 20 g 90%; Plastic cup 500 ml 1 ea
Soy milk: Soybeans 40 g; White sugar 15 g; Paper cup 12 oz 1 ea; Cup lids 1 ea
Red-bean milk tea: Milk-tea base 300 ml; Red-bean paste 60 g; Ice cubes 100 g; Plastic cup 500 ml 1 ea; Boba straws 1 ea
Coconut latte: Espresso base 60 ml; Coconut milk 120 ml; Whole milk 80 ml; Ice cubes 100 g; Plastic cup 500 ml 1 ea; Straws 1 ea
Iced americano: Espresso base 60 ml; Ice cubes 150 g; Plastic cup 500 ml 1 ea; Straws 1 ea
Watermelon juice: Watermelon 400 g 60%; Simple syrup 10 ml; Ice cubes 80 g; Plastic cup 500 ml 1 ea; Straws 1 ea
Portuguese egg tart: Frozen tart shells 1 ea; Egg-tart custard 45 ml; Tart trays 1 ea
Vanilla ice cream: Ice cream 80 ml; Paper cup 12 oz 1 ea
Chocolate sundae: Ice cream 100 ml; Chocolate sauce 20 g; Peanuts 5 g; Paper cup 12 oz 1 ea
Strawberry sundae: Ice cream 100 ml; Strawberry 30 g 90%; Simple syrup 10 ml; Paper cup 12 oz 1 ea
Mango pudding: Mango purée 80 g; Whole milk 60 ml; Whipping cream 15 ml; Gelatine sheets 2 g; White sugar 10 g
Red-bean ice: Red-bean paste 100 g; Ice cubes 200 g; Condensed milk 20 g; Whole milk 50 ml; Plastic cup 500 ml 1 ea
Banana split: Banana 120 g 70%; Ice cream 90 ml; Chocolate sauce 20 g; Whipping cream 20 ml; Peanuts 5 g
Matcha cake: Cake flour 40 g; Eggs 50 g; Matcha powder 5 g; Whipping cream 50 ml; White sugar 30 g; Butter 15 g
Cheesecake: Cream cheese 90 g; Eggs 30 g; White sugar 25 g; Butter 15 g; Cake flour 20 g; Whipping cream 20 ml
Fruit cup: Watermelon 80 g 60%; Mango 60 g 70%; Strawberry 40 g 90%; Banana 50 g 70%; Plastic cup 500 ml 1 ea
Mapo tofu rice: Steamed rice 250 g; Tofu 200 g; Minced pork 50 g; Broad-bean paste 20 g; Chilli oil 10 ml; Sichuan pepper 1 g; Stock 80 ml; Corn starch 5 g; Spring onion 5 g 90%
Twice-cooked pork rice: Steamed rice 250 g; Pork belly 170 g; Green pepper 60 g 85%; Broad-bean paste 20 g; Cabbage 60 g 85%; Soybean oil 15 ml
Sweet & sour pork rice: Steamed rice 250 g; Pork loin 160 g; Corn starch 30 g; Sweet-and-sour sauce 60 ml; Frying oil 40 ml; Green pepper 30 g 85%
Sichuan poached fish: Basa fillet 400 g; Bean sprouts 150 g; Chilli oil 60 ml; Dried chilli 15 g; Sichuan pepper 5 g; Broad-bean paste 40 g; Stock 500 ml; Corn starch 10 g; Soup bowl 1 ea
Pickled-cabbage fish: Basa fillet 400 g; Pickled-fish broth 800 ml; Fresh chilli 10 g; Corn starch 10 g; Soup bowl 1 ea
Char siu rice: Steamed rice 250 g; Char siu 140 g; Bok choy 60 g 85%; Braising sauce 20 ml
Poached chicken rice: Steamed rice 250 g; Whole chicken 300 g 65%; Ginger 15 g 90%; Spring onion 15 g 90%; Soybean oil 15 ml; Salt 2 g
Dan dan noodles: Wheat noodles 180 g; Minced pork 60 g; Sesame paste 20 g; Chilli oil 15 ml; Light soy sauce 10 ml; Bok choy 40 g 85%; Peanuts 10 g; Sichuan pepper 1 g
Beef ho fun: Fresh rice noodles 250 g; Marinated beef strips 80 g; Bean sprouts 60 g; Spring onion 15 g 90%; Dark soy sauce 10 ml; Soybean oil 20 ml
Tomato & egg rice: Steamed rice 250 g; Tomato 200 g 95%; Eggs 110 g; Ketchup 15 g; Soybean oil 15 ml; Spring onion 5 g 90%
Di san xian rice: Steamed rice 250 g; Eggplant 150 g 90%; Potato 100 g 85%; Green pepper 60 g 85%; Garlic 10 g 85%; Oyster sauce 10 g; Frying oil 40 ml; Corn starch 5 g
Yu-xiang eggplant rice: Steamed rice 250 g; Eggplant 220 g 90%; Yu-xiang sauce 60 ml; Minced pork 30 g; Frying oil 30 ml
Red-braised pork rice: Steamed rice 250 g; Pork belly 180 g; Braising sauce 50 ml; Rock sugar 10 g; Bok choy 50 g 85%; Marinated eggs 1 ea
Sweet & sour ribs rice: Steamed rice 250 g; Pork ribs 220 g; Sweet-and-sour sauce 50 ml; Frying oil 30 ml; Sesame seeds 2 g
Braised chicken rice: Steamed rice 250 g; Boneless chicken thigh 200 g; Shiitake mushroom 40 g; Green pepper 40 g 85%; Braising sauce 60 ml; Potato 60 g 85%
Pork & chive dumplings: Dumpling wrappers 120 g; Minced pork 150 g; Chinese chives 80 g 90%; Sesame oil 5 ml; Light soy sauce 10 ml; Ginger 5 g 90%
Pork wonton soup: Dumpling wrappers 60 g; Dumpling filling 120 g; Stock 350 ml; Dried seaweed 1 g; Chopped herbs 5 g; Sesame oil 3 ml; Soup bowl 1 ea
Scallion oil noodles: Wheat noodles 200 g; Spring onion 60 g 90%; Soybean oil 25 ml; Dark soy sauce 15 ml; Light soy sauce 10 ml; White sugar 8 g
Century egg & pork congee: Rice 60 g; Century eggs 1 ea; Pork loin 50 g; Ginger 5 g 90%; Spring onion 5 g 90%; Salt 2 g; Stock 200 ml; Soup bowl 1 ea
Egg fried rice with ham: Steamed rice 300 g; Eggs 110 g; Sliced ham 30 g; Spring onion 15 g 90%; Soybean oil 20 ml; Salt 2 g
Beef curry rice: Steamed rice 250 g; Curry sauce 200 g; Braised beef 80 g
Rou jia mo: Steamed-bun dough 120 g; Braised pork belly 80 g; Green pepper 15 g 85%; Coriander 5 g 85%
Xiaolongbao: Dumpling wrappers 100 g; Dumpling filling 200 g; Stock 50 ml; Ginger 5 g 90%; Black vinegar 15 ml
Char siu buns: Steamed-bun dough 150 g; Char siu 60 g; Oyster sauce 10 g; White sugar 5 g
Mouth-watering chicken: Whole chicken 250 g 65%; Chilli oil 30 ml; Sesame paste 10 g; Peanuts 15 g; Sichuan pepper 2 g; Chopped herbs 10 g; Light soy sauce 10 ml; White sugar 5 g
Potstickers: Dumpling wrappers 90 g; Dumpling filling 150 g; Soybean oil 15 ml; Black vinegar 10 ml
Spring rolls: Dumpling wrappers 60 g; Cabbage 80 g 85%; Carrot 30 g 90%; Minced pork 40 g; Shiitake mushroom 15 g; Frying oil 30 ml; Sweet-and-sour sauce 20 ml
Scallion pancake: Bread flour 120 g; Spring onion 30 g 90%; Soybean oil 25 ml; Salt 2 g; Sesame oil 3 ml
Fried dough stick: Bread flour 80 g; Frying oil 25 ml; Dried yeast 1 g; Salt 1 g
Century egg tofu: Tofu 250 g; Century eggs 1 ea; Light soy sauce 15 ml; Sesame oil 5 ml; Chopped herbs 10 g; Chilli oil 5 ml
Hot & sour potato shreds: Potato 300 g 85%; Fresh chilli 10 g; Green pepper 30 g 85%; Black vinegar 20 ml; Soybean oil 20 ml; Dried chilli 3 g; Sichuan pepper 1 g
Cola chicken wings: Chicken wing mid 180 g; Coca-Cola soda, original, 330 ml can 0.5 ea; Light soy sauce 15 ml; Ginger 10 g 90%; Soybean oil 10 ml
Salt & pepper squid: Squid rings 120 g; Corn starch 30 g; Frying oil 30 ml; White pepper 2 g; Fresh chilli 10 g; Garlic 10 g 85%
Crab stick salad: Crab sticks 80 g; Cucumber 80 g 95%; Mayonnaise 30 g; Sweet corn kernels 30 g; Salad mix 40 g
Mango pomelo sago: Mango purée 100 g; Grapefruit 40 g 60%; Cooked sago 40 g; Coconut milk 80 ml; Whole milk 60 ml; Simple syrup 15 ml; Plastic cup 500 ml 1 ea
Taro ball milk tea: Milk-tea base 300 ml; Taro balls 80 g; Ice cubes 100 g; Plastic cup 500 ml 1 ea; Boba straws 1 ea
Iced lemon tea: Lemon-tea base 350 ml; Lemon 60 g 90%; Ice cubes 150 g; Simple syrup 15 ml; Plastic cup 500 ml 1 ea; Straws 1 ea
Double-skin milk pudding: Whole milk 250 ml; Eggs 40 g; White sugar 20 g; Red-bean paste 20 g
Taro sago: Taro balls 80 g; Cooked sago 50 g; Coconut milk 120 ml; Whole milk 80 ml; Simple syrup 15 ml; Plastic cup 500 ml 1 ea
Glutinous rice balls: Glutinous rice 80 g; Red-bean paste 50 g; Sesame seeds 10 g; Sesame paste 20 g; White sugar 15 g
";

/// Second versions that took effect part-way through the history: `days ago | note | recipe`
/// (the recipe as in [`RECIPES`]).
const RECIPE_CHANGES: &str = "
75 | Patty up to 140 g | Classic beef burger: Burger buns 1 ea; Beef patty 140 g; Lettuce 20 g 90%; Tomato 30 g 95%; House sauce 20 g; Onion 15 g 90%; Burger box 1 ea
60 | Portion down to 135 g | French fries: Frozen fries 135 g; Frying oil 15 ml; Salt 1 g; Ketchup 20 g; Fries bag 1 ea
45 | More pearls (70 g) | Bubble milk tea: Milk-tea base 300 ml; Cooked tapioca pearls 70 g; Fructose syrup 20 g; Ice cubes 100 g; Plastic cup 500 ml 1 ea; Boba straws 1 ea
90 | Less sugar | Milk-tea base @ 10: Black tea leaves 250 g; Creamer powder 1000 g; Fructose syrup 600 g; Whole milk 2200 ml
30 | Beef portion 90 g | Beef noodle soup: Wheat noodles 180 g; Braised beef 90 g; Beef broth 450 ml; Bok choy 40 g 85%; Chopped herbs 10 g; Chilli oil 10 ml; Soup bowl 1 ea
";

/// Suppliers, one per line: `code | Chinese | English | contact | phone | address | lead time
/// days | delivery weekdays | minimum order in yuan | categories supplied` (`*` after a
/// category: sells it by the base unit as well as by the pack, at cash-and-carry prices).
const SUPPLIERS: &str = "
VEG-JQ | 江桥蔬菜批发 | Jiangqiao Vegetable Wholesale | 陈建国 | +86 21 5917 2301 | 上海市嘉定区曹安公路 3355 号 | 1 | 1,2,3,4,5,6 | 500 | VEG
VEG-XF | 新发地农产品配送 | Xinfadi Produce Distribution | 刘海燕 | +86 10 8726 1188 | 北京市丰台区京开路 1 号 | 1 | 1,3,5 | 600 | VEG FRUIT
VEG-SG | 寿光绿色蔬菜合作社 | Shouguang Green Vegetable Co-op | 王志强 | +86 536 521 6677 | 山东省寿光市文圣街 88 号 | 2 | 2,5 | 1000 | VEG
VEG-JN | 江南果蔬 | Jiangnan Fruit & Veg | 黄美玲 | +86 20 8150 3322 | 广州市荔湾区芳村大道 208 号 | 1 | 1,2,3,4,5,6 | 400 | VEG FRUIT
FRU-YN | 云南高原鲜果 | Yunnan Highland Fresh Fruit | 杨光明 | +86 871 6536 8899 | 昆明市官渡区螺蛳湾路 15 号 | 2 | 2,4,6 | 800 | FRUIT
FRU-HN | 海南热带水果 | Hainan Tropical Fruit | 林秋菊 | +86 898 6552 4410 | 海口市龙华区滨海大道 66 号 | 3 | 3,6 | 1000 | FRUIT
MEAT-HD | 华东冷鲜肉业 | East China Fresh Meat | 周斌 | +86 512 6523 7788 | 苏州市相城区澄阳路 120 号 | 1 | 1,2,3,4,5,6 | 1500 | MEAT
MEAT-SN | 闽北禽业 | Minbei Poultry | 郑文华 | +86 599 782 3366 | 福建省南平市光泽县工业园 | 2 | 1,3,5 | 2000 | MEAT
MEAT-KE | 科尔沁草原牛业 | Horqin Prairie Beef | 包巴特尔 | +86 475 835 1199 | 内蒙古通辽市科尔沁区建国路 9 号 | 3 | 2,5 | 3000 | MEAT
MEAT-XL | 锡林郭勒羊业 | Xilingol Lamb | 乌云 | +86 479 822 4567 | 内蒙古锡林浩特市那达慕大街 31 号 | 4 | 3 | 3000 | MEAT
SEA-ZS | 舟山海鲜 | Zhoushan Seafood | 许海波 | +86 580 208 6655 | 浙江省舟山市普陀区沈家门渔港 | 2 | 2,4,6 | 2000 | SEA
SEA-ZJ | 湛江水产 | Zhanjiang Aquatic Products | 梁志华 | +86 759 228 9901 | 广东省湛江市霞山区海滨路 5 号 | 2 | 1,4 | 1500 | SEA
SEA-DL | 大连海洋食品 | Dalian Ocean Foods | 孙立新 | +86 411 8276 3344 | 大连市甘井子区渔港路 77 号 | 3 | 3,6 | 2500 | SEA FROZ
DAI-GH | 光华乳业 | Guanghua Dairy | 吴晓丽 | +86 21 6451 2088 | 上海市闵行区江川路 1518 号 | 1 | 1,2,3,4,5,6,7 | 300 | DAIRY
DAI-JH | 金禾蛋品 | Jinhe Eggs | 何建平 | +86 551 6588 3021 | 安徽省合肥市肥东县龙塘镇 | 1 | 1,3,5 | 300 | DAIRY
DAI-OL | 欧乐乳酪进口 | Oule Cheese Imports | 马丽娜 | +86 21 5046 7719 | 上海市浦东新区外高桥保税区富特北路 400 号 | 3 | 2,4 | 2000 | DAIRY
GRA-WC | 五常稻香米业 | Wuchang Rice Mill | 赵德胜 | +86 451 5352 1234 | 黑龙江省五常市民乐乡 | 4 | 2 | 2000 | GRAIN
GRA-JM | 金麦面粉 | Golden Wheat Flour | 钱伟 | +86 371 6778 4455 | 郑州市惠济区面粉厂路 3 号 | 3 | 1,4 | 1500 | GRAIN
GRA-FL | 福临粮油 | Fulin Grain & Oil | 冯淑芬 | +86 27 8363 5566 | 武汉市东西湖区走马岭大道 12 号 | 2 | 2,5 | 1000 | GRAIN
GRA-XM | 新麦烘焙 | Xinmai Bakery | 李春生 | +86 21 3760 8812 | 上海市松江区九亭镇涞坊路 550 号 | 1 | 1,2,3,4,5,6,7 | 200 | GRAIN
CON-CW | 川味调料 | Sichuan Flavour Condiments | 唐小军 | +86 28 8745 2266 | 成都市郫都区安德镇川菜产业园 | 3 | 3 | 800 | SEAS DRYG
CON-YX | 粤香酱园 | Yuexiang Sauce Works | 冼国华 | +86 757 8228 1357 | 佛山市顺德区大良街道酱园路 8 号 | 3 | 1,4 | 800 | SEAS
CON-HR | 海润调味品 | Hairun Seasonings | 邓丽君 | +86 532 8671 2468 | 青岛市城阳区流亭街道 26 号 | 2 | 2,5 | 600 | SEAS
DRY-DB | 东北山珍干货 | Northeast Mountain Dry Goods | 高永福 | +86 433 251 3579 | 吉林省延吉市河南街 101 号 | 4 | 4 | 600 | DRYG
DRY-NB | 南北干货行 | North-South Dry Goods | 蔡文娟 | +86 20 8188 2460 | 广州市荔湾区一德路 336 号 | 2 | 2,5 | 500 | DRYG GRAIN
BEV-CY | 茶语茶叶 | Chayu Tea Co. | 潘静 | +86 571 8796 5522 | 杭州市西湖区龙井路 18 号 | 3 | 2 | 800 | BEVI
BEV-YF | 云啡咖啡烘焙 | Yunfei Coffee Roasters | 段云飞 | +86 879 213 6688 | 云南省普洱市思茅区咖啡产业园 | 4 | 3 | 1000 | BEVI
BEV-XH | 鲜活饮品原料 | Xianhuo Beverage Supplies | 范晓东 | +86 21 6766 1021 | 上海市松江区新桥镇新茸路 99 号 | 2 | 1,3,5 | 600 | BEVI DAIRY
FRZ-BC | 冰川速冻食品 | Glacier Frozen Foods | 葛红 | +86 371 6893 3030 | 郑州市惠济区天河路 7 号 | 3 | 2,5 | 1500 | FROZ
FRZ-AD | 安冻冷链 | Andong Cold Chain | 袁立 | +86 21 5781 9090 | 上海市奉贤区南桥镇环城西路 2008 号 | 1 | 1,2,3,4,5,6 | 1000 | FROZ MEAT SEA
PAK-HA | 恒安包装 | Hengan Packaging | 谢建华 | +86 769 8533 2288 | 东莞市长安镇振安中路 168 号 | 5 | 3 | 1000 | PACK
PAK-LY | 绿叶环保餐具 | Green Leaf Eco Tableware | 曾敏 | +86 574 8765 4321 | 宁波市北仑区大碶街道 55 号 | 5 | 1 | 800 | PACK
CLN-JK | 洁康清洁用品 | Jiekang Cleaning Supplies | 方秀英 | +86 21 5488 7766 | 上海市普陀区真北路 1888 号 | 3 | 2 | 300 | CLEAN
CLN-JL | 净立方卫生 | Clean Cube Hygiene | 任国栋 | +86 755 2698 1100 | 深圳市宝安区西乡街道 62 号 | 4 | 4 | 500 | CLEAN
RET-HR | 华润饮料分销 | Huarun Beverage Distribution | 石磊 | +86 21 6208 5577 | 上海市长宁区临空经济园区 | 2 | 1,4 | 1500 | RBEV
RET-BH | 百货零食批发 | Baihuo Snack Wholesale | 龚丽 | +86 571 8672 3400 | 杭州市拱墅区石祥路 71 号 | 3 | 2,5 | 1000 | RSNK RGRO
RET-LH | 联华副食配送 | Lianhua Grocery Distribution | 姚振华 | +86 21 5665 0808 | 上海市宝山区长江西路 99 号 | 2 | 3,6 | 800 | RBEV RSNK RGRO
GEN-DH | 大都会仓储批发 | Metropolitan Cash & Carry | 彭涛 | +86 21 6288 9999 | 上海市普陀区真华路 1288 号 | 0 | 1,2,3,4,5,6,7 | 0 | MEAT* VEG* FRUIT* DAIRY* GRAIN* SEAS* DRYG* BEVI* FROZ* PACK CLEAN RBEV RSNK RGRO
GEN-CS | 城市冷链配送 | City Cold Chain Logistics | 韩冬 | +86 10 6756 2200 | 北京市大兴区西红门镇宏业东路 6 号 | 1 | 1,2,3,4,5,6 | 800 | DAIRY MEAT FROZ BEVI
GEN-CX | 诚信办公耗材 | Chengxin Store Supplies | 邱月 | +86 21 6490 3355 | 上海市徐汇区漕宝路 500 号 | 2 | 3 | 200 | CLEAN PACK
";

/// How much of the catalogue to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSize {
    /// The whole catalogue, every location stocked, 180 days of history.
    Full,
    /// A few dozen items (the first menu items with what their recipes need) and a little
    /// stock at S001, S002 and W001 (tests).
    Small,
}

/// One demo item with what the history needs to know of it.
pub struct DemoItem {
    pub input: ItemInput,
    /// Cost per base unit in fen (prepared items: what their recipe costs).
    pub cost: i64,
    /// Daily usage at a store in base units (0 = not used directly).
    pub daily_use: i64,
    pub pack: Option<(&'static str, i64)>,
    /// Selling price of a menu item in fen.
    pub price: Option<i64>,
}

fn code(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:04}")
}

/// Menu items of the small catalogue (the first ones of [`MENU`]).
const SMALL_MENU: usize = 8;

/// One line of a demo recipe: the component by English name, the net quantity in `unit`,
/// and the line yield in basis points.
#[derive(Debug, Clone)]
pub struct DemoLine {
    pub component: &'static str,
    pub qty: Qty,
    pub unit: &'static str,
    pub yield_bp: i64,
}

/// A demo recipe version: the output by English name, its yield in the output's base unit.
#[derive(Debug, Clone)]
pub struct DemoRecipe {
    pub output: &'static str,
    pub yield_qty: Qty,
    pub lines: Vec<DemoLine>,
}

fn parse_recipe(text: &'static str) -> DemoRecipe {
    let (head, body) = text.split_once(':').expect("recipe has a colon");
    let (output, yield_qty) = match head.split_once(" @ ") {
        Some((o, y)) => (o.trim(), Qty::parse(y.trim()).expect("recipe yield")),
        None => (head.trim(), Qty::units(1)),
    };
    let lines = body
        .split(';')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut rest = l;
            let mut yield_bp = 10_000;
            let mut last = || {
                let (a, b) = rest.rsplit_once(' ').expect("recipe line has qty and unit");
                rest = a.trim_end();
                b
            };
            let mut tok = last();
            if let Some(pct) = tok.strip_suffix('%') {
                yield_bp = pct.parse::<i64>().expect("line yield") * 100;
                tok = last();
            }
            let unit = tok;
            let qty = Qty::parse(last()).expect("line qty");
            DemoLine {
                component: rest,
                qty,
                unit,
                yield_bp,
            }
        })
        .collect();
    DemoRecipe {
        output,
        yield_qty,
        lines,
    }
}

/// The demo recipes (first versions), sub-recipes before the recipes using them.
pub fn recipes() -> Vec<DemoRecipe> {
    RECIPES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(parse_recipe)
        .collect()
}

/// The second versions: days before today they took effect, a note, the version.
pub fn recipe_changes() -> Vec<(i64, &'static str, DemoRecipe)> {
    RECIPE_CHANGES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '|').map(str::trim);
            let days = parts.next().and_then(|d| d.parse().ok()).expect("days ago");
            let note = parts.next().expect("note");
            (days, note, parse_recipe(parts.next().expect("recipe")))
        })
        .collect()
}

/// Micro base units of `qty` in `unit` for an item kept in `base` (standard units only).
fn to_base_micros(qty: Qty, unit: &str, base: &str) -> Option<i64> {
    if unit == base {
        return Some(qty.micros());
    }
    let (u, b) = (crate::units::standard(unit)?, crate::units::standard(base)?);
    if u.dimension != b.dimension {
        return None;
    }
    boh_kernel::qty::mul_div_round(qty.micros(), u.factor, b.factor)
}

/// Gross micro base units a line takes per batch (net ÷ yield).
fn gross_micros(l: &DemoLine, base: &str) -> i64 {
    let net = to_base_micros(l.qty, l.unit, base).unwrap_or(0);
    boh_kernel::qty::mul_div_round(net, 10_000, l.yield_bp.max(1)).unwrap_or(0)
}

/// English names of everything the first `n` menu items need, through their sub-recipes.
fn closure(book: &HashMap<&'static str, DemoRecipe>, n: usize) -> Vec<&'static str> {
    let mut todo: Vec<&'static str> = MENU.iter().take(n).map(|m| m.2).collect();
    let mut seen: Vec<&'static str> = Vec::new();
    while let Some(name) = todo.pop() {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        if let Some(r) = book.get(name) {
            todo.extend(r.lines.iter().map(|l| l.component));
        }
    }
    seen
}

/// The demo catalogue (about 800 items for [`DemoSize::Full`]).
pub fn catalogue(size: DemoSize) -> Vec<DemoItem> {
    let small = size == DemoSize::Small;
    let book: HashMap<&'static str, DemoRecipe> =
        recipes().into_iter().map(|r| (r.output, r)).collect();
    let needed = closure(&book, SMALL_MENU);
    // Small: the first dozen of each list, the first menu items and what they need.
    let keep = |i: usize, en: &str| !small || i < 12 || needed.contains(&en);
    let mut out = Vec::new();
    for (i, (cat, zh, en, unit, storage, shelf, lots, pack, per, cost)) in
        INGREDIENTS.iter().enumerate()
    {
        if !keep(i, en) {
            continue;
        }
        let mut units = vec![ItemUnit {
            unit: (*pack).into(),
            factor: Qty::units(*per),
        }];
        if *unit == "kg" {
            units.push(ItemUnit {
                unit: "portion".into(),
                factor: Qty(150_000),
            });
        }
        out.push(DemoItem {
            input: ItemInput {
                code: code("RM", i + 1),
                name_zh: Some((*zh).into()),
                name_en: Some((*en).into()),
                category_code: Some((*cat).into()),
                kind: Some("ingredient".into()),
                base_unit: Some((*unit).into()),
                storage_type: Some((*storage).into()),
                shelf_life_days: Some(*shelf),
                lot_tracked: Some(*lots),
                units: Some(units),
                barcodes: Some(vec![catalog::Barcode {
                    barcode: format!("69{:011}", 10_000 + i),
                    unit: (*pack).into(),
                }]),
                ..ItemInput::default()
            },
            cost: *cost,
            daily_use: (per / 3).max(1),
            pack: Some((pack, *per)),
            price: None,
        });
    }
    for (i, (zh, en, unit, storage, shelf, cost)) in PREPARED.iter().enumerate() {
        if small && !needed.contains(en) {
            continue;
        }
        out.push(DemoItem {
            input: ItemInput {
                code: code("PR", i + 1),
                name_zh: Some((*zh).into()),
                name_en: Some((*en).into()),
                category_code: Some("PREP".into()),
                kind: Some("prepared".into()),
                base_unit: Some((*unit).into()),
                storage_type: Some((*storage).into()),
                shelf_life_days: Some(*shelf),
                ..ItemInput::default()
            },
            cost: *cost,
            daily_use: 3,
            pack: None,
            price: None,
        });
    }
    for (i, (zh, en, unit)) in MADE_TO_ORDER.iter().enumerate() {
        if small && !needed.contains(en) {
            continue;
        }
        out.push(DemoItem {
            input: ItemInput {
                code: code("PR", PREPARED.len() + i + 1),
                name_zh: Some((*zh).into()),
                name_en: Some((*en).into()),
                category_code: Some("PREP".into()),
                kind: Some("prepared".into()),
                base_unit: Some((*unit).into()),
                stocked: Some(false),
                ..ItemInput::default()
            },
            cost: 0,
            daily_use: 0,
            pack: None,
            price: None,
        });
    }
    for (i, (cat, zh, en, price)) in MENU.iter().enumerate() {
        if small && i >= SMALL_MENU {
            continue;
        }
        out.push(DemoItem {
            input: ItemInput {
                code: code("MN", i + 1),
                name_zh: Some((*zh).into()),
                name_en: Some((*en).into()),
                category_code: Some((*cat).into()),
                kind: Some("menu".into()),
                base_unit: Some("ea".into()),
                stocked: Some(false),
                pos_code: Some(format!("{}", 1000 + i + 1)),
                ..ItemInput::default()
            },
            cost: 0,
            daily_use: 0,
            pack: None,
            price: Some(*price),
        });
    }
    for (i, (zh, en, unit, pack, per, cost)) in PACKAGING.iter().enumerate() {
        if !keep(i, en) {
            continue;
        }
        out.push(DemoItem {
            input: ItemInput {
                code: code("PK", i + 1),
                name_zh: Some((*zh).into()),
                name_en: Some((*en).into()),
                category_code: Some("PACK".into()),
                kind: Some("packaging".into()),
                base_unit: Some((*unit).into()),
                units: Some(vec![ItemUnit {
                    unit: (*pack).into(),
                    factor: Qty::units(*per),
                }]),
                ..ItemInput::default()
            },
            cost: *cost,
            daily_use: (per / 20).max(1),
            pack: Some((pack, *per)),
            price: None,
        });
    }
    let mut n = 0;
    let retail_cap = if small { 8 } else { usize::MAX };
    'outer: for (bi, (bzh, ben)) in BRANDS.iter().enumerate() {
        for (pi, (cat, pzh, pen, sz, cost)) in RETAIL_PRODUCTS.iter().enumerate() {
            // Each brand sells most products in a few flavours.
            for (fi, (fzh, fen)) in [
                ("原味", "original"),
                ("低糖", "less sugar"),
                ("经典", "classic"),
                ("限定", "limited edition"),
            ]
            .iter()
            .enumerate()
            {
                if (bi * 7 + pi * 3 + fi) % 5 >= 3 {
                    continue;
                }
                if n >= retail_cap {
                    break 'outer;
                }
                n += 1;
                out.push(DemoItem {
                    input: ItemInput {
                        code: code("RT", n),
                        name_zh: Some(format!("{bzh}{pzh}（{fzh}）{sz}")),
                        name_en: Some(format!("{ben} {pen}, {fen}, {sz}")),
                        category_code: Some((*cat).into()),
                        kind: Some("retail".into()),
                        base_unit: Some("ea".into()),
                        shelf_life_days: Some(if *cat == "RBEV" { 365 } else { 270 }),
                        units: Some(vec![ItemUnit {
                            unit: "case".into(),
                            factor: Qty::units(24),
                        }]),
                        barcodes: Some(vec![catalog::Barcode {
                            barcode: format!("69{:011}", 50_000 + n),
                            unit: "ea".into(),
                        }]),
                        ..ItemInput::default()
                    },
                    cost: cost + (bi as i64 % 5) * 10,
                    daily_use: 2,
                    pack: Some(("case", 24)),
                    price: None,
                });
            }
        }
    }
    for (i, (zh, en, unit, cost)) in SUPPLIES.iter().enumerate() {
        if !keep(i, en) {
            continue;
        }
        out.push(DemoItem {
            input: ItemInput {
                code: code("SP", i + 1),
                name_zh: Some((*zh).into()),
                name_en: Some((*en).into()),
                category_code: Some("CLEAN".into()),
                kind: Some("supply".into()),
                base_unit: Some((*unit).into()),
                ..ItemInput::default()
            },
            cost: *cost,
            daily_use: 1,
            pack: None,
            price: None,
        });
    }
    // Prepared items cost what their recipe costs.
    let costs = recipe_costs(&out, &book);
    for d in &mut out {
        if d.input.kind.as_deref() == Some("prepared")
            && let Some(c) = costs.get(d.input.name_en.as_deref().unwrap_or(""))
        {
            d.cost = (*c).max(1);
        }
    }
    out
}

/// Cost per base unit (fen) of every item with a recipe, from the catalogue's costs.
fn recipe_costs(
    items: &[DemoItem],
    book: &HashMap<&'static str, DemoRecipe>,
) -> HashMap<&'static str, i64> {
    let facts: HashMap<&str, (&str, i64)> = items
        .iter()
        .map(|d| {
            (
                d.input.name_en.as_deref().unwrap_or(""),
                (d.input.base_unit.as_deref().unwrap_or("ea"), d.cost),
            )
        })
        .collect();
    // Micro-fen per base unit, memoised.
    fn cost_of(
        name: &str,
        facts: &HashMap<&str, (&str, i64)>,
        book: &HashMap<&'static str, DemoRecipe>,
        memo: &mut HashMap<String, i128>,
        depth: usize,
    ) -> i128 {
        if let Some(c) = memo.get(name) {
            return *c;
        }
        let c = match book.get(name) {
            Some(r) if depth < 16 => {
                let mut total: i128 = 0;
                for l in &r.lines {
                    let base = facts.get(l.component).map(|f| f.0).unwrap_or("ea");
                    let gross = i128::from(gross_micros(l, base));
                    total += gross * cost_of(l.component, facts, book, memo, depth + 1)
                        / i128::from(MICRO);
                }
                total * i128::from(MICRO) / i128::from(r.yield_qty.micros().max(1))
            }
            _ => facts
                .get(name)
                .map(|f| i128::from(f.1) * i128::from(MICRO))
                .unwrap_or(0),
        };
        memo.insert(name.to_string(), c);
        c
    }
    let mut memo = HashMap::new();
    let mut out = HashMap::new();
    for name in book.keys() {
        let c = cost_of(name, &facts, book, &mut memo, 0);
        out.insert(*name, i64::try_from(c / i128::from(MICRO)).unwrap_or(0));
    }
    out
}

/// Seed the categories and items of the demo company (idempotent: an upsert by code).
pub async fn seed_catalog(p: &Platform, company_id: &str, size: DemoSize) -> Result<Vec<Item>> {
    let ctx = Ctx::system();
    for (code, parent, zh, en) in CATEGORIES {
        catalog::upsert_category(
            p,
            &ctx,
            catalog::NewCategory {
                company_id: Some(company_id.to_string()),
                parent_code: Some((*parent).to_string()).filter(|s| !s.is_empty()),
                code: (*code).into(),
                name_zh: Some((*zh).into()),
                name_en: Some((*en).into()),
                ..Default::default()
            },
        )
        .await?;
    }
    let items = catalogue(size);
    let rows: Vec<(String, ItemInput)> = items
        .iter()
        .map(|d| (String::new(), d.input.clone()))
        .collect();
    let rep =
        catalog::upsert_items(p, &ctx, Some(company_id), &rows, UpsertMode::Upsert, false).await?;
    Ok(rep.items)
}

/// A demo supplier as listed in [`SUPPLIERS`].
struct DemoSupplier {
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    contact: &'static str,
    phone: &'static str,
    address: &'static str,
    lead: i64,
    days: Vec<i64>,
    min_order_yuan: i64,
    /// Categories supplied, and whether also by the base unit (cash and carry).
    cats: Vec<(&'static str, bool)>,
}

fn demo_suppliers() -> Vec<DemoSupplier> {
    SUPPLIERS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&'static str> = l.split('|').map(str::trim).collect();
            DemoSupplier {
                code: f[0],
                zh: f[1],
                en: f[2],
                contact: f[3],
                phone: f[4],
                address: f[5],
                lead: f[6].parse().expect("lead time"),
                days: f[7]
                    .split(',')
                    .map(|d| d.parse().expect("weekday"))
                    .collect(),
                min_order_yuan: f[8].parse().expect("minimum order"),
                cats: f[9]
                    .split_whitespace()
                    .map(|c| match c.strip_suffix('*') {
                        Some(c) => (c, true),
                        None => (c, false),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// How the history buys an item: from its preferred supplier, in packs of `pack` base
/// units, at the price per pack in force (`prices` by effective date, ascending).
#[derive(Debug, Clone)]
pub struct Buy {
    pub supplier: usize,
    pub pack: i64,
    pub prices: Vec<(jiff::civil::Date, i64)>,
}

impl Buy {
    /// The price per pack in force on `day`.
    pub fn price_on(&self, day: jiff::civil::Date) -> Option<i64> {
        self.prices
            .iter()
            .take_while(|(d, _)| *d <= day)
            .last()
            .or(self.prices.first())
            .map(|(_, p)| *p)
    }
}

/// The demo suppliers, and per item code how the history buys it.
pub struct Purchasing {
    pub suppliers: Vec<crate::supplier::Supplier>,
    /// Delivery weekdays of each supplier (ISO, 1 = Monday), as `suppliers`.
    pub delivery_days: Vec<Vec<i64>>,
    pub buy: HashMap<String, Buy>,
}

fn day_offset(d: jiff::civil::Date, days: i64) -> Result<jiff::civil::Date> {
    d.checked_add(jiff::Span::new().days(days))
        .map_err(|e| PlatformError::Internal(e.into()))
}

/// Seed the 40 demo suppliers, the items each sells (every purchasable item of the
/// catalogue from a preferred supplier, many from a second one too, a cash-and-carry by the
/// kilogram), and a price history from `days` ago: a list price, a few changes since, and
/// for some items a change announced for the coming weeks.
pub async fn seed_suppliers(
    p: &Platform,
    company_id: &str,
    items: &[Item],
    size: DemoSize,
    days: i64,
) -> Result<Purchasing> {
    use crate::supplier::{self, PriceInput, SupplierInput, SupplierItemInput};
    let ctx = Ctx::system();
    let demo = catalogue(size);
    let by_code: HashMap<&str, &DemoItem> =
        demo.iter().map(|d| (d.input.code.as_str(), d)).collect();
    let list = demo_suppliers();
    let rows: Vec<(String, SupplierInput)> = list
        .iter()
        .map(|s| {
            (
                String::new(),
                SupplierInput {
                    company_id: Some(company_id.to_string()),
                    code: s.code.into(),
                    name_zh: Some(s.zh.into()),
                    name_en: Some(s.en.into()),
                    contact_name: Some(s.contact.into()),
                    phone: Some(s.phone.into()),
                    email: Some(format!(
                        "orders@{}.example.cn",
                        s.code.to_lowercase().replace('-', "")
                    )),
                    address: Some(s.address.into()),
                    lead_time_days: Some(s.lead),
                    delivery_days: Some(s.days.clone()),
                    min_order_minor: Some(s.min_order_yuan * 100),
                    ..SupplierInput::default()
                },
            )
        })
        .collect();
    let rep =
        supplier::upsert_suppliers(p, &ctx, Some(company_id), &rows, UpsertMode::Upsert, false)
            .await?;
    let mut by_sup_code: HashMap<String, crate::supplier::Supplier> = rep
        .suppliers
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect();
    let suppliers: Vec<crate::supplier::Supplier> = list
        .iter()
        .filter_map(|s| by_sup_code.remove(s.code))
        .collect();
    if suppliers.len() != list.len() {
        return Err(PlatformError::Internal(anyhow::anyhow!(
            "demo suppliers were not all saved"
        )));
    }
    let today = jiff::ZonedDateTime::now().date();
    let start = day_offset(today, -days)?;
    let mut rng = Rng::new(20_261_203);
    // Per supplier: (item, pack unit, preferred, list price per pack).
    let mut offers: Vec<Vec<(&Item, String, bool, i64)>> = vec![Vec::new(); list.len()];
    let mut buy: HashMap<String, Buy> = HashMap::new();
    for item in items {
        if !matches!(
            item.kind.as_str(),
            "ingredient" | "packaging" | "retail" | "supply"
        ) {
            continue;
        }
        let Some(d) = by_code.get(item.code.as_str()) else {
            continue;
        };
        let cat = d.input.category_code.as_deref().unwrap_or("");
        let candidates: Vec<usize> = list
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                !s.cats.iter().any(|(_, by_base)| *by_base) && s.cats.iter().any(|(c, _)| *c == cat)
            })
            .map(|(i, _)| i)
            .collect();
        let general = list
            .iter()
            .position(|s| s.cats.iter().any(|(c, _)| *c == cat) && s.cats.iter().any(|c| c.1));
        let (pack_unit, per) = d.pack.unwrap_or((item.base_unit.as_str(), 1));
        let pack_unit = pack_unit.to_string();
        let per = per.max(1);
        let preferred = match candidates.len() {
            0 => general,
            n => Some(candidates[rng.range(0, n as i64 - 1) as usize]),
        };
        let Some(pref) = preferred else { continue };
        let list_price = (d.cost * per * rng.range(97, 103) / 100).max(1);
        offers[pref].push((item, pack_unit.clone(), true, list_price));
        buy.insert(
            item.code.clone(),
            Buy {
                supplier: pref,
                pack: per,
                prices: Vec::new(),
            },
        );
        // A second source for many items: another specialist, or the cash and carry (by the
        // base unit where it sells loose).
        if rng.chance(45) {
            let other: Vec<usize> = candidates.iter().copied().filter(|c| *c != pref).collect();
            if !other.is_empty() && rng.chance(60) {
                let alt = other[rng.range(0, other.len() as i64 - 1) as usize];
                let price = (d.cost * per * rng.range(102, 110) / 100).max(1);
                offers[alt].push((item, pack_unit.clone(), false, price));
            } else if let Some(g) = general.filter(|g| *g != pref) {
                let loose = list[g].cats.iter().any(|(c, b)| *c == cat && *b) && per > 1;
                if loose {
                    let price = (d.cost * rng.range(110, 118) / 100).max(1);
                    offers[g].push((item, item.base_unit.clone(), false, price));
                } else {
                    let price = (d.cost * per * rng.range(104, 112) / 100).max(1);
                    offers[g].push((item, pack_unit.clone(), false, price));
                }
            }
        }
    }
    for (si, s) in suppliers.iter().enumerate() {
        let offered = &offers[si];
        if offered.is_empty() {
            continue;
        }
        let rows: Vec<(String, SupplierItemInput)> = offered
            .iter()
            .enumerate()
            .map(|(n, (item, unit, preferred, _))| {
                (
                    String::new(),
                    SupplierItemInput {
                        item_id: Some(item.id.clone()),
                        pack_unit: Some(unit.clone()),
                        supplier_sku: Some(format!("{}-{:04}", s.code, n + 1)),
                        preferred: Some(*preferred),
                        ..SupplierItemInput::default()
                    },
                )
            })
            .collect();
        let rep = supplier::upsert_supplier_items(p, &ctx, &s.id, &rows, false).await?;
        let ids: HashMap<(String, String), String> = rep
            .items
            .into_iter()
            .map(|si| ((si.item_id, si.pack_unit), si.id))
            .collect();
        let mut prices: Vec<(String, PriceInput)> = Vec::new();
        for (item, unit, preferred, list_price) in offered {
            let Some(si_id) = ids.get(&(item.id.clone(), unit.clone())) else {
                continue;
            };
            // The list price from the start, then 0–3 changes, kept as history.
            let mut history = vec![(start, *list_price, None)];
            let changes = [0, 1, 1, 2, 2, 3][rng.range(0, 5) as usize];
            let mut at: Vec<i64> = (0..changes).map(|_| rng.range(10, days - 3)).collect();
            at.sort_unstable();
            at.dedup();
            let mut price = *list_price;
            for d in at {
                let pct = match rng.range(-4, 8) {
                    0 => 3,
                    x => x,
                };
                price = (price * (100 + pct) / 100).max(1);
                let note = if pct > 0 {
                    "price increase"
                } else {
                    "price reduction"
                };
                history.push((day_offset(start, d)?, price, Some(note)));
            }
            if rng.chance(6) {
                price = (price * rng.range(103, 106) / 100).max(1);
                let d = day_offset(today, rng.range(7, 30))?;
                history.push((d, price, Some("announced price change")));
            }
            if *preferred && let Some(b) = buy.get_mut(&item.code) {
                b.prices = history.iter().map(|(d, p, _)| (*d, *p)).collect();
            }
            for (d, pr, note) in history {
                prices.push((
                    String::new(),
                    PriceInput {
                        supplier_item_id: si_id.clone(),
                        price_minor: pr,
                        effective_from: Some(d.to_string()),
                        note: note.map(str::to_string),
                    },
                ));
            }
        }
        supplier::add_prices(p, &ctx, &s.id, &prices).await?;
    }
    Ok(Purchasing {
        delivery_days: list.iter().map(|s| s.days.clone()).collect(),
        suppliers,
        buy,
    })
}

/// Item codes with micro base units.
type Usages = Vec<(String, i64)>;

/// A recipe version of a stocked prepared item as production uses it.
#[derive(Debug, Clone)]
pub struct ProdVersion {
    pub from: jiff::civil::Date,
    pub version_id: String,
    /// Micro base units of output per batch.
    pub yield_micros: i64,
    /// Item code and gross micro base units per batch of every stocked component
    /// (sub-recipes made to order exploded).
    pub lines: Vec<(String, i64)>,
}

/// Seed a recipe for every menu and prepared item of the catalogue, in force from `days`
/// ago, and the second versions of [`RECIPE_CHANGES`] as of the day they took effect.
/// Returns, per stocked prepared item code in recipe order, its versions for production
/// (oldest first).
pub async fn seed_recipes(
    p: &Platform,
    items: &[Item],
    days: i64,
) -> Result<Vec<(String, Vec<ProdVersion>)>> {
    use crate::QtyText;
    use crate::recipe::{self, RecipeLineInput, VersionInput};
    let ctx = Ctx::system();
    let by_name: HashMap<&str, &Item> = items.iter().map(|i| (i.name_en.as_str(), i)).collect();
    let today = jiff::ZonedDateTime::now().date();
    let start = day_offset(today, -days)?;
    let mut versions: Vec<(i64, Option<&str>, DemoRecipe)> =
        recipes().into_iter().map(|r| (days, None, r)).collect();
    versions.extend(
        recipe_changes()
            .into_iter()
            .filter(|(d, _, _)| *d < days)
            .map(|(d, n, r)| (d, Some(n), r)),
    );
    // Made-to-order sub-recipes, as production explodes them (first versions).
    let mut made_to_order: HashMap<&str, (i64, Usages)> = HashMap::new();
    let mut out: Vec<(String, Vec<ProdVersion>)> = Vec::new();
    for (ago, note, r) in versions {
        let Some(item) = by_name.get(r.output) else {
            continue;
        };
        let mut lines = Vec::with_capacity(r.lines.len());
        let mut usage: Vec<(String, i64)> = Vec::new();
        let mut complete = true;
        for l in &r.lines {
            let Some(c) = by_name.get(l.component) else {
                complete = false;
                break;
            };
            lines.push(RecipeLineInput {
                item_code: Some(c.code.clone()),
                qty: QtyText(l.qty.to_text()),
                unit: Some(l.unit.to_string()),
                yield_pct: (l.yield_bp != 10_000)
                    .then(|| QtyText(boh_kernel::qty::format_scaled(l.yield_bp, 2))),
                ..RecipeLineInput::default()
            });
            let gross = gross_micros(l, &c.base_unit);
            match made_to_order.get(c.name_en.as_str()) {
                Some((y, sub)) if !c.stocked => {
                    for (code, q) in sub {
                        let q = boh_kernel::qty::mul_div_round(*q, gross, (*y).max(1)).unwrap_or(0);
                        usage.push((code.clone(), q));
                    }
                }
                _ => usage.push((c.code.clone(), gross)),
            }
        }
        if !complete {
            continue;
        }
        let effective = day_offset(today, -ago)?;
        let saved = recipe::add_version_as_of(
            p,
            &ctx,
            &item.id,
            VersionInput {
                effective_from: Some(effective.to_string()),
                yield_qty: Some(QtyText(r.yield_qty.to_text())),
                note: note.map(str::to_string),
                lines,
            },
            Some(effective.max(start)),
        )
        .await?;
        if !item.stocked {
            made_to_order
                .entry(r.output)
                .or_insert((r.yield_qty.micros(), usage));
            continue;
        }
        if item.kind == "prepared"
            && let Some(v) = saved.versions.first()
        {
            let pv = ProdVersion {
                from: effective,
                version_id: v.id.clone(),
                yield_micros: r.yield_qty.micros(),
                lines: usage,
            };
            match out.iter_mut().find(|(c, _)| *c == item.code) {
                Some((_, vs)) => vs.push(pv),
                None => out.push((item.code.clone(), vec![pv])),
            }
        }
    }
    Ok(out)
}

/// Seed stock: the suppliers and recipes first ([`seed_suppliers`], [`seed_recipes`]), then
/// every location gets settings (par levels, storage areas), opening stock `days` ago, and
/// then deliveries, production, daily issues and occasional waste up to today. The warehouse
/// and the central kitchen receive from the suppliers (one goods receipt per supplier and
/// delivery, at the supplier's price in force); the kitchen makes the prepared items from
/// their recipes; stores are replenished twice a week at the buying price (prepared items
/// at their recipe cost). With [`DemoSize::Small`] only S001, S002 and W001, with opening
/// stock only.
pub async fn seed_history(
    p: &Platform,
    sites: &[OrgNode],
    items: &[Item],
    size: DemoSize,
    days: i64,
) -> Result<u64> {
    let ctx = Ctx::system();
    let Some(company_id) = items.first().map(|i| i.company_id.clone()) else {
        return Ok(0);
    };
    let purchasing = seed_suppliers(p, &company_id, items, size, days).await?;
    let production = seed_recipes(p, items, days).await?;
    let demo = catalogue(size);
    let by_code: HashMap<&str, &DemoItem> =
        demo.iter().map(|d| (d.input.code.as_str(), d)).collect();
    let mut rng = Rng::new(20_261_202);
    let today = jiff::ZonedDateTime::now().date();
    let start = day_offset(today, -days)?;
    // What the kitchen uses a day: what it sends out of each prepared item, and what making
    // that takes of every component (micro base units).
    let mut kitchen_use: HashMap<String, i64> = HashMap::new();
    for (code, versions) in &production {
        let Some(v) = versions.first() else { continue };
        let out_day = by_code.get(code.as_str()).map(|d| d.daily_use).unwrap_or(1) * 12 * MICRO;
        *kitchen_use.entry(code.clone()).or_default() += out_day;
        for (c, q) in &v.lines {
            let per_day =
                boh_kernel::qty::mul_div_round(*q, out_day, v.yield_micros.max(1)).unwrap_or(0);
            *kitchen_use.entry(c.clone()).or_default() += per_day;
        }
    }
    let inputs = HistoryInputs {
        purchasing: &purchasing,
        production: &production,
    };
    let mut posted = 0u64;
    let backend = p.db.backend();
    for site in sites {
        let is_store = site.kind == "store";
        if size == DemoSize::Small && !matches!(site.code.as_str(), "S001" | "S002" | "W001") {
            continue;
        }
        // What this location keeps: stores most ingredients, packaging and retail goods;
        // the kitchen the prepared items and what they are made of; the warehouse
        // everything stocked but prepared items.
        let mut kept: Vec<&Item> = Vec::new();
        for i in items.iter().filter(|i| i.stocked) {
            let keep = match site.kind.as_str() {
                "store" => match i.kind.as_str() {
                    "prepared" => rng.chance(60),
                    "retail" => rng.chance(30),
                    _ => true,
                },
                "central_kitchen" => kitchen_use.contains_key(&i.code),
                _ => i.kind != "prepared",
            };
            if keep {
                kept.push(i);
            }
        }
        // Storage areas in walking order, and par levels.
        let areas = [
            ("DRY", "干货区", "Dry store", "ambient"),
            ("COLD", "冷藏库", "Walk-in cooler", "chilled"),
            ("FRZ", "冷冻库", "Freezer", "frozen"),
            ("FOH", "前厅货架", "Front shelves", "retail"),
        ];
        let mut area_ids: HashMap<&str, String> = HashMap::new();
        for (i, (code, zh, en, key)) in areas.iter().enumerate() {
            let a = crate::location::upsert_area(
                p,
                &ctx,
                &site.id,
                crate::location::AreaInput {
                    code: (*code).into(),
                    name_zh: Some((*zh).into()),
                    name_en: Some((*en).into()),
                    sort: Some(i as i64 * 10),
                    ..Default::default()
                },
            )
            .await?;
            area_ids.insert(key, a.id);
        }
        let scale = if is_store { 1 } else { 12 };
        let use_of = |i: &Item| -> i64 {
            if site.kind == "central_kitchen" {
                kitchen_use.get(&i.code).copied().unwrap_or(MICRO)
            } else {
                by_code
                    .get(i.code.as_str())
                    .map(|d| d.daily_use)
                    .unwrap_or(1)
                    * scale
                    * MICRO
            }
        };
        let levels: Vec<crate::location::ItemLocationInput> = kept
            .iter()
            .map(|i| {
                let par = ((use_of(i) * 4 + MICRO - 1) / MICRO).max(1);
                let area_key = if i.kind == "retail" {
                    "retail"
                } else {
                    i.storage_type.as_str()
                };
                crate::location::ItemLocationInput {
                    item_id: Some(i.id.clone()),
                    storage_area_id: area_ids.get(area_key).cloned(),
                    par_qty: Some(Qty::units(par)),
                    min_qty: Some(Qty::units((par / 3).max(1))),
                    max_qty: Some(Qty::units(par * 2)),
                    ..Default::default()
                }
            })
            .collect();
        if !levels.is_empty() {
            crate::location::set_item_locations(p, &ctx, &site.id, levels).await?;
        }
        if is_store {
            crate::location::set_settings(
                p,
                &ctx,
                &site.id,
                crate::location::SettingsInput {
                    negative_policy: "allow".into(),
                },
            )
            .await?;
        }
        let uses: Vec<i64> = kept.iter().map(|i| use_of(i)).collect();
        let plan = plan_history(
            &kept, &uses, &by_code, start, today, site, size, &inputs, &mut rng,
        );
        let open_date = start.to_string();
        let n = boh_platform::tx!(p.db, tx, {
            let mut count = 0u64;
            for d in &plan {
                let mut lines = Vec::with_capacity(d.lines.len());
                for l in &d.lines {
                    let item = kept[l.idx];
                    let lot = match (item.lot_tracked, l.qty > 0) {
                        (false, _) => LotPick::NoLot,
                        (true, false) => LotPick::Fefo,
                        (true, true) => {
                            let expiry = d
                                .date
                                .checked_add(
                                    jiff::Span::new().days(item.shelf_life_days.unwrap_or(30)),
                                )
                                .ok()
                                .map(|x| x.to_string());
                            let code = if d.kind == "opening" {
                                format!("OB-{}", item.code)
                            } else {
                                format!("L{}-{}", d.date.to_string().replace('-', ""), item.code)
                            };
                            LotPick::Lot(
                                ledger::ensure_lot(tx, item, &code, expiry.as_deref()).await?,
                            )
                        }
                    };
                    let kind = match (d.kind, l.qty > 0) {
                        ("production", true) => "production_in",
                        ("production", false) => "production_out",
                        (k, _) => k,
                    };
                    lines.push(PostLine {
                        item: item.clone(),
                        lot,
                        qty: l.qty,
                        value: l.value,
                        kind,
                        reason: l.reason.map(str::to_string),
                        reverses_id: None,
                        field: format!("lines[{}]", lines.len()),
                    });
                }
                if lines.is_empty() {
                    continue;
                }
                let (source_type, source_id) = match &d.source {
                    Some((t, id)) => (Some((*t).to_string()), Some(id.clone())),
                    None => (Some("demo".to_string()), None),
                };
                ledger::post_in(
                    tx,
                    backend,
                    &ctx,
                    &PostDoc {
                        location: site.clone(),
                        kind: d.kind,
                        business_date: if d.kind == "opening" {
                            open_date.clone()
                        } else {
                            d.date.to_string()
                        },
                        reference: d.reference.clone(),
                        note: None,
                        source_type,
                        source_id,
                        reverses_id: None,
                        lines,
                        allow_negative: true,
                    },
                )
                .await?;
                count += 1;
            }
            Ok::<_, PlatformError>(count)
        })?;
        posted += n;
    }
    Ok(posted)
}

/// What the history plan needs besides the catalogue.
struct HistoryInputs<'a> {
    purchasing: &'a Purchasing,
    production: &'a [(String, Vec<ProdVersion>)],
}

struct PlannedLine {
    idx: usize,
    /// Signed micro base units.
    qty: i64,
    value: ValueSpec,
    reason: Option<&'static str>,
}

struct PlannedDoc {
    date: jiff::civil::Date,
    kind: &'static str,
    reference: Option<String>,
    /// Source type and id (a supplier, a recipe version); default `demo`.
    source: Option<(&'static str, String)>,
    lines: Vec<PlannedLine>,
}

/// Value in fen of `qty` micro base units at `price` fen per `per` base units.
fn value_of(qty: i64, price: i64, per: i64) -> i64 {
    boh_kernel::qty::mul_div_round(qty, price, per.max(1) * MICRO).unwrap_or(0)
}

/// The documents of one location over the demo period, simulated day by day against its own
/// on-hand (`uses[i]`: micro base units a day of `kept[i]`): an opening balance of about a
/// week of use; deliveries that order up to a target level in whole packs (the warehouse and
/// the kitchen weekly from each supplier on its delivery day, stores twice a week, each
/// delivery bringing a third of the items in rotation); in the kitchen, batches of the
/// prepared items whenever they run low (Monday to Saturday), consuming their ingredients;
/// usage recorded in batches (busier at weekends); and occasional waste of chilled and
/// frozen goods.
#[allow(clippy::too_many_arguments)]
fn plan_history(
    kept: &[&Item],
    uses: &[i64],
    by_code: &HashMap<&str, &DemoItem>,
    start: jiff::civil::Date,
    today: jiff::civil::Date,
    site: &OrgNode,
    size: DemoSize,
    inputs: &HistoryInputs<'_>,
    rng: &mut Rng,
) -> Vec<PlannedDoc> {
    let is_store = site.kind == "store";
    let is_kitchen = site.kind == "central_kitchen";
    let buy = &inputs.purchasing.buy;
    let cost_of = |i: &Item, day: jiff::civil::Date| -> (i64, i64) {
        // (price, per base units)
        match buy.get(&i.code) {
            Some(b) => (b.price_on(day).unwrap_or(0), b.pack),
            None => (
                by_code.get(i.code.as_str()).map(|d| d.cost).unwrap_or(100),
                1,
            ),
        }
    };
    let pack_of = |i: &Item| -> i64 {
        buy.get(&i.code)
            .map(|b| b.pack)
            .or_else(|| {
                by_code
                    .get(i.code.as_str())
                    .and_then(|d| d.pack)
                    .map(|p| p.1)
            })
            .unwrap_or(1)
            .max(1)
    };
    let index: HashMap<&str, usize> = kept
        .iter()
        .enumerate()
        .map(|(n, i)| (i.code.as_str(), n))
        .collect();
    let mut onhand: Vec<i64> = Vec::with_capacity(kept.len());
    let mut opening = Vec::new();
    for (idx, i) in kept.iter().enumerate() {
        let qty = (uses[idx] * rng.range(6, 9) + MICRO - 1) / MICRO * MICRO;
        onhand.push(qty);
        let (price, per) = cost_of(i, start);
        opening.push(PlannedLine {
            idx,
            qty,
            value: ValueSpec::Known(value_of(qty, price, per)),
            reason: None,
        });
    }
    let mut docs = vec![PlannedDoc {
        date: start,
        kind: "opening",
        reference: Some("OPENING".into()),
        source: None,
        lines: opening,
    }];
    if size == DemoSize::Small {
        return docs;
    }
    // Order up to this many days of use.
    let cover = if is_store { 21 } else { 14 };
    let mut deliveries = 0usize;
    let mut day = start;
    while day < today {
        day = match day.tomorrow() {
            Ok(d) => d,
            Err(_) => break,
        };
        let wd = i64::from(day.weekday().to_monday_one_offset());
        let stamp = day.to_string().replace('-', "");
        let order_up_to = |idx: usize, have: i64| -> Option<i64> {
            let target = uses[idx] * cover;
            if have >= target {
                return None;
            }
            let per = pack_of(kept[idx]) * MICRO;
            let packs = (target - have + per - 1) / per;
            Some(packs * per)
        };
        if is_store {
            if wd == 2 || wd == 5 {
                deliveries += 1;
                let mut lines = Vec::new();
                for (idx, i) in kept.iter().enumerate() {
                    if !(idx + deliveries).is_multiple_of(3) {
                        continue;
                    }
                    let Some(qty) = order_up_to(idx, onhand[idx]) else {
                        continue;
                    };
                    let (price, per) = cost_of(i, day);
                    onhand[idx] += qty;
                    lines.push(PlannedLine {
                        idx,
                        qty,
                        value: ValueSpec::Known(value_of(qty, price, per)),
                        reason: None,
                    });
                }
                docs.push(PlannedDoc {
                    date: day,
                    kind: "receipt",
                    reference: Some(format!("DN-{stamp}-{deliveries:03}")),
                    source: None,
                    lines,
                });
            }
        } else {
            // One goods receipt per supplier, on its first delivery day of the week.
            for (si, s) in inputs.purchasing.suppliers.iter().enumerate() {
                if inputs.purchasing.delivery_days[si].first() != Some(&wd) {
                    continue;
                }
                let mut lines = Vec::new();
                for (idx, i) in kept.iter().enumerate() {
                    if buy.get(&i.code).map(|b| b.supplier) != Some(si) {
                        continue;
                    }
                    let Some(qty) = order_up_to(idx, onhand[idx]) else {
                        continue;
                    };
                    let (price, per) = cost_of(i, day);
                    onhand[idx] += qty;
                    lines.push(PlannedLine {
                        idx,
                        qty,
                        value: ValueSpec::Known(value_of(qty, price, per)),
                        reason: None,
                    });
                }
                docs.push(PlannedDoc {
                    date: day,
                    kind: "receipt",
                    reference: Some(format!("GRN-{}-{stamp}", s.code)),
                    source: Some(("supplier", s.id.clone())),
                    lines,
                });
            }
        }
        if is_kitchen && wd <= 6 {
            // Make what runs low, in recipe order (stocks and sauces before what uses them).
            for (code, versions) in inputs.production {
                let Some(&out_idx) = index.get(code.as_str()) else {
                    continue;
                };
                let Some(v) = versions.iter().rev().find(|v| v.from <= day) else {
                    continue;
                };
                let use_day = uses[out_idx];
                let shelf = kept[out_idx].shelf_life_days.unwrap_or(3).clamp(2, 6);
                if onhand[out_idx] > use_day {
                    continue;
                }
                let target = use_day * shelf;
                let batches = ((target - onhand[out_idx]) + v.yield_micros - 1) / v.yield_micros;
                if batches <= 0 {
                    continue;
                }
                let mut lines = Vec::new();
                for (c, q) in &v.lines {
                    let Some(&ci) = index.get(c.as_str()) else {
                        continue;
                    };
                    let qty = q * batches;
                    onhand[ci] -= qty;
                    lines.push(PlannedLine {
                        idx: ci,
                        qty: -qty,
                        value: ValueSpec::AtCost,
                        reason: None,
                    });
                }
                if lines.is_empty() {
                    continue;
                }
                let qty = v.yield_micros * batches;
                onhand[out_idx] += qty;
                lines.push(PlannedLine {
                    idx: out_idx,
                    qty,
                    value: ValueSpec::Consumed,
                    reason: None,
                });
                docs.push(PlannedDoc {
                    date: day,
                    kind: "production",
                    reference: Some(format!("PRD-{stamp}-{code}")),
                    source: Some(("recipe_version", v.version_id.clone())),
                    lines,
                });
            }
        }
        let weekend = wd >= 6;
        let mut lines = Vec::new();
        for (idx, i) in kept.iter().enumerate() {
            let q = if is_kitchen {
                // The kitchen sends out prepared items every day; its ingredients go into
                // production.
                if i.kind != "prepared" {
                    continue;
                }
                let out_day = by_code
                    .get(i.code.as_str())
                    .map(|d| d.daily_use)
                    .unwrap_or(1);
                out_day * 12 * MICRO * rng.range(80, 120) / 100
            } else {
                if !rng.chance(10) {
                    continue;
                }
                let base = uses[idx] * if weekend { 13 } else { 10 };
                base / 2 + rng.range(0, base)
            };
            // Counted goods go out whole, and nothing goes out that is not there.
            let q = if i.base_unit == "ea" {
                q / MICRO * MICRO
            } else {
                q
            };
            let q = q.min(onhand[idx]);
            if q <= 0 {
                continue;
            }
            onhand[idx] -= q;
            lines.push(PlannedLine {
                idx,
                qty: -q,
                value: ValueSpec::AtCost,
                reason: None,
            });
        }
        docs.push(PlannedDoc {
            date: day,
            kind: "issue",
            reference: None,
            source: None,
            lines,
        });
        if is_store && rng.chance(30) {
            let mut lines = Vec::new();
            for (idx, i) in kept.iter().enumerate() {
                if i.storage_type == "ambient" || !rng.chance(6) {
                    continue;
                }
                let q = if i.base_unit == "ea" {
                    rng.range(1, 4) * MICRO
                } else {
                    rng.range(1, 4) * MICRO / 4
                };
                let q = q.min(onhand[idx]);
                if q <= 0 {
                    continue;
                }
                onhand[idx] -= q;
                lines.push(PlannedLine {
                    idx,
                    qty: -q,
                    value: ValueSpec::AtCost,
                    reason: Some(
                        ["expired", "spoiled", "damaged", "overproduction", "dropped"]
                            [rng.range(0, 4) as usize],
                    ),
                });
            }
            docs.push(PlannedDoc {
                date: day,
                kind: "waste",
                reference: None,
                source: None,
                lines,
            });
        }
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_catalogue_has_about_800_unique_items() {
        let c = catalogue(DemoSize::Full);
        assert!((800..=950).contains(&c.len()), "{} items", c.len());
        let mut codes: Vec<&str> = c.iter().map(|d| d.input.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), c.len(), "codes are unique");
        let mut names: Vec<&str> = c
            .iter()
            .map(|d| d.input.name_en.as_deref().unwrap_or(""))
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), c.len(), "English names are unique");
        let small = catalogue(DemoSize::Small);
        assert!(
            small.len() < 110,
            "{} items in the small catalogue",
            small.len()
        );
    }

    #[test]
    fn every_recipe_resolves_and_every_menu_and_prepared_item_has_one() {
        for size in [DemoSize::Full, DemoSize::Small] {
            let c = catalogue(size);
            let by_name: HashMap<&str, &DemoItem> = c
                .iter()
                .map(|d| (d.input.name_en.as_deref().unwrap_or(""), d))
                .collect();
            let all = recipes();
            let mut outputs: Vec<&str> = Vec::new();
            for r in all.iter().chain(recipe_changes().iter().map(|(_, _, r)| r)) {
                let Some(out) = by_name.get(r.output) else {
                    assert_eq!(
                        size,
                        DemoSize::Small,
                        "{} is not in the catalogue",
                        r.output
                    );
                    continue;
                };
                assert!(
                    matches!(out.input.kind.as_deref(), Some("menu" | "prepared")),
                    "{} may not have a recipe",
                    r.output
                );
                outputs.push(r.output);
                for l in &r.lines {
                    let comp = by_name
                        .get(l.component)
                        .unwrap_or_else(|| panic!("{}: no component {}", r.output, l.component));
                    let base = comp.input.base_unit.as_deref().unwrap_or("");
                    assert!(
                        to_base_micros(l.qty, l.unit, base).is_some_and(|q| q > 0),
                        "{}: {} {} of {} ({base})",
                        r.output,
                        l.qty.to_text(),
                        l.unit,
                        l.component
                    );
                    assert!(
                        comp.input.kind.as_deref() != Some("menu"),
                        "{}: uses menu item {}",
                        r.output,
                        l.component
                    );
                }
            }
            for d in &c {
                if matches!(d.input.kind.as_deref(), Some("menu" | "prepared")) {
                    let name = d.input.name_en.as_deref().unwrap_or("");
                    assert!(outputs.contains(&name), "{name} has no recipe");
                }
            }
            // Made-to-order sub-recipes come before what uses them.
            let mut seen: Vec<&str> = Vec::new();
            for r in &all {
                for l in &r.lines {
                    if MADE_TO_ORDER.iter().any(|m| m.1 == l.component) {
                        assert!(
                            seen.contains(&l.component),
                            "{} before {}",
                            l.component,
                            r.output
                        );
                    }
                }
                seen.push(r.output);
            }
        }
        let menu = catalogue(DemoSize::Full)
            .iter()
            .filter(|d| d.input.kind.as_deref() == Some("menu"))
            .count();
        assert!((110..=130).contains(&menu), "{menu} menu items");
    }

    #[test]
    fn menu_costs_are_a_plausible_share_of_prices() {
        let c = catalogue(DemoSize::Full);
        let book: HashMap<&'static str, DemoRecipe> =
            recipes().into_iter().map(|r| (r.output, r)).collect();
        let costs = recipe_costs(&c, &book);
        let mut shares = Vec::new();
        for d in c.iter().filter(|d| d.price.is_some()) {
            let name = d.input.name_en.as_deref().unwrap_or("");
            let cost = costs[name];
            let price = d.price.unwrap_or(1);
            let bp = cost * 10_000 / price;
            println!(
                "{name:32} cost {cost:5} price {price:5} food cost {:.1} %",
                bp as f64 / 100.0
            );
            assert!((1_000..=4_200).contains(&bp), "{name}: food cost {bp} bp");
            shares.push(bp);
        }
        let avg = shares.iter().sum::<i64>() / shares.len() as i64;
        println!("average food cost {:.1} %", avg as f64 / 100.0);
        assert!((2_200..=3_300).contains(&avg), "average food cost {avg} bp");
    }

    #[test]
    fn every_supplier_line_parses_and_covers_every_purchasable_category() {
        let s = demo_suppliers();
        assert_eq!(s.len(), 40);
        for (code, ..) in CATEGORIES {
            if matches!(
                *code,
                "ING" | "PREP" | "MENU" | "MAIN" | "SIDE" | "DRINK" | "DESS" | "RET" | "SUP"
            ) {
                continue;
            }
            assert!(
                s.iter()
                    .any(|x| x.cats.iter().any(|(c, b)| c == code && !b)),
                "no specialist supplier for {code}"
            );
        }
        for x in &s {
            assert!(x.days.iter().all(|d| (1..=7).contains(d)), "{}", x.code);
        }
    }

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.range(0, 1000), b.range(0, 1000));
        }
    }
}
