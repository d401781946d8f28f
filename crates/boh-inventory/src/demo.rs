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
];

/// Menu items: (category, Chinese, English, price in fen).
const MENU: &[(&str, &str, &str, i64)] = &[
    ("MAIN", "经典牛肉汉堡", "Classic beef burger", 3200),
    ("MAIN", "双层芝士汉堡", "Double cheeseburger", 3800),
    ("MAIN", "香辣鸡腿堡", "Spicy chicken burger", 2800),
    ("MAIN", "鳕鱼堡", "Fish burger", 2900),
    ("MAIN", "培根蛋堡", "Bacon & egg burger", 2600),
    ("MAIN", "照烧鸡腿饭", "Teriyaki chicken rice", 3200),
    ("MAIN", "红烧牛腩饭", "Braised beef brisket rice", 3800),
    ("MAIN", "咖喱鸡饭", "Chicken curry rice", 3000),
    ("MAIN", "宫保鸡丁饭", "Kung pao chicken rice", 3000),
    ("MAIN", "鱼香肉丝饭", "Yu-xiang pork rice", 2800),
    ("MAIN", "卤肉饭", "Braised pork rice", 2400),
    ("MAIN", "扬州炒饭", "Yangzhou fried rice", 2600),
    ("MAIN", "牛肉面", "Beef noodle soup", 3200),
    ("MAIN", "酸辣粉", "Hot & sour noodles", 2200),
    ("MAIN", "肉酱意面", "Spaghetti bolognese", 3600),
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
    ("SIDE", "洋葱圈", "Onion rings", 1200),
    ("SIDE", "烤肠", "Grilled sausage", 800),
    ("SIDE", "味噌汤", "Miso soup", 600),
    ("SIDE", "紫菜蛋花汤", "Seaweed egg soup", 600),
    ("SIDE", "蒜蓉西兰花", "Garlic broccoli", 1400),
    ("SIDE", "炒青菜", "Stir-fried greens", 1200),
    ("DRINK", "珍珠奶茶", "Bubble milk tea", 1500),
    ("DRINK", "原味奶茶", "Milk tea", 1200),
    ("DRINK", "柠檬红茶", "Lemon black tea", 1200),
    ("DRINK", "茉莉绿茶", "Jasmine green tea", 1000),
    ("DRINK", "抹茶拿铁", "Matcha latte", 2200),
    ("DRINK", "美式咖啡", "Americano", 1600),
    ("DRINK", "拿铁", "Caffè latte", 2000),
    ("DRINK", "卡布奇诺", "Cappuccino", 2000),
    ("DRINK", "热可可", "Hot chocolate", 1800),
    ("DRINK", "鲜榨橙汁", "Fresh orange juice", 1800),
    ("DRINK", "芒果冰沙", "Mango smoothie", 2000),
    ("DRINK", "草莓奶昔", "Strawberry shake", 2200),
    ("DRINK", "椰奶西米露", "Coconut sago", 1600),
    ("DRINK", "柠檬苏打", "Lemon soda", 1200),
    ("DRINK", "酸奶杯", "Yoghurt cup", 1400),
    ("DRINK", "豆浆", "Soy milk", 600),
    ("DRINK", "红豆奶茶", "Red-bean milk tea", 1600),
    ("DRINK", "椰子拿铁", "Coconut latte", 2200),
    ("DRINK", "冰美式", "Iced americano", 1700),
    ("DRINK", "西瓜汁", "Watermelon juice", 1600),
    ("DESS", "葡式蛋挞", "Portuguese egg tart", 800),
    ("DESS", "香草冰淇淋", "Vanilla ice cream", 1000),
    ("DESS", "巧克力圣代", "Chocolate sundae", 1400),
    ("DESS", "草莓圣代", "Strawberry sundae", 1400),
    ("DESS", "芒果布丁", "Mango pudding", 1200),
    ("DESS", "红豆冰", "Red-bean ice", 1200),
    ("DESS", "香蕉船", "Banana split", 1800),
    ("DESS", "抹茶蛋糕", "Matcha cake", 2200),
    ("DESS", "芝士蛋糕", "Cheesecake", 2400),
    ("DESS", "水果杯", "Fruit cup", 1600),
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

/// How much of the catalogue to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSize {
    /// The whole catalogue, every location stocked, 180 days of history.
    Full,
    /// A few dozen items and a little stock at S001, S002 and W001 (tests).
    Small,
}

/// One demo item with what the history needs to know of it.
pub struct DemoItem {
    pub input: ItemInput,
    /// Cost per base unit in fen.
    pub cost: i64,
    /// Daily usage at a store in base units (0 = not used directly).
    pub daily_use: i64,
    pub pack: Option<(&'static str, i64)>,
}

fn code(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:04}")
}

/// The demo catalogue (about 800 items for [`DemoSize::Full`]).
pub fn catalogue(size: DemoSize) -> Vec<DemoItem> {
    let mut out = Vec::new();
    let take = |n: usize| {
        if size == DemoSize::Small {
            n.min(12)
        } else {
            n
        }
    };
    for (i, (cat, zh, en, unit, storage, shelf, lots, pack, per, cost)) in
        INGREDIENTS.iter().take(take(INGREDIENTS.len())).enumerate()
    {
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
        });
    }
    for (i, (zh, en, unit, storage, shelf, cost)) in
        PREPARED.iter().take(take(PREPARED.len())).enumerate()
    {
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
        });
    }
    for (i, (cat, zh, en, _price)) in MENU.iter().take(take(MENU.len())).enumerate() {
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
        });
    }
    for (i, (zh, en, unit, pack, per, cost)) in
        PACKAGING.iter().take(take(PACKAGING.len())).enumerate()
    {
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
        });
    }
    let mut n = 0;
    let retail_cap = if size == DemoSize::Small {
        8
    } else {
        usize::MAX
    };
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
                });
            }
        }
    }
    for (i, (zh, en, unit, cost)) in SUPPLIES.iter().take(take(SUPPLIES.len())).enumerate() {
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
        });
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

/// Seed stock: every location gets settings (par levels, storage areas), opening stock
/// `days` ago, and then receipts, daily issues and occasional waste up to today. With
/// [`DemoSize::Small`] only S001, S002 and W001, with opening stock only.
pub async fn seed_history(
    p: &Platform,
    sites: &[OrgNode],
    items: &[Item],
    size: DemoSize,
    days: i64,
) -> Result<u64> {
    let ctx = Ctx::system();
    let demo = catalogue(size);
    let by_code: HashMap<&str, &DemoItem> =
        demo.iter().map(|d| (d.input.code.as_str(), d)).collect();
    let mut rng = Rng::new(20_261_202);
    let today = jiff::ZonedDateTime::now().date();
    let start = today
        .checked_sub(jiff::Span::new().days(days))
        .map_err(|e| PlatformError::Internal(e.into()))?;
    let mut posted = 0u64;
    let backend = p.db.backend();
    for site in sites {
        let is_store = site.kind == "store";
        if size == DemoSize::Small && !matches!(site.code.as_str(), "S001" | "S002" | "W001") {
            continue;
        }
        // What this location keeps: stores most ingredients, packaging and retail goods;
        // the kitchen ingredients and prepared items; the warehouse everything stocked.
        let mut kept: Vec<&Item> = Vec::new();
        for i in items.iter().filter(|i| i.stocked) {
            let keep = match site.kind.as_str() {
                "store" => match i.kind.as_str() {
                    "prepared" => rng.chance(60),
                    "retail" => rng.chance(30),
                    _ => true,
                },
                "central_kitchen" => matches!(i.kind.as_str(), "ingredient" | "prepared"),
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
        let levels: Vec<crate::location::ItemLocationInput> = kept
            .iter()
            .map(|i| {
                let use_per_day = by_code
                    .get(i.code.as_str())
                    .map(|d| d.daily_use)
                    .unwrap_or(1);
                let scale = if is_store { 1 } else { 12 };
                let par = use_per_day * 4 * scale;
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
        let scale = if is_store { 1 } else { 12 };
        let plan = plan_history(&kept, &by_code, start, today, site, size, scale, &mut rng);
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
                    lines.push(PostLine {
                        item: item.clone(),
                        lot,
                        qty: l.qty,
                        value: match l.value {
                            Some(v) => ValueSpec::Known(v),
                            None => ValueSpec::AtCost,
                        },
                        kind: d.kind,
                        reason: l.reason.map(str::to_string),
                        reverses_id: None,
                        field: format!("lines[{}]", lines.len()),
                    });
                }
                if lines.is_empty() {
                    continue;
                }
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
                        source_type: Some("demo".into()),
                        source_id: None,
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

struct PlannedLine {
    idx: usize,
    /// Signed micro base units.
    qty: i64,
    /// Known value of increases (fen); decreases leave at cost.
    value: Option<i64>,
    reason: Option<&'static str>,
}

struct PlannedDoc {
    date: jiff::civil::Date,
    kind: &'static str,
    reference: Option<String>,
    lines: Vec<PlannedLine>,
}

/// The documents of one location over the demo period, simulated day by day against its own
/// on-hand: an opening balance of about a week of use; deliveries (stores twice a week, the
/// warehouse and kitchen weekly, each bringing a third of the items in rotation) that order up
/// to a target level in whole packs, at a cost that drifts a little; usage recorded in batches
/// (busier at weekends); and occasional waste of chilled and frozen goods.
#[allow(clippy::too_many_arguments)]
fn plan_history(
    kept: &[&Item],
    by_code: &HashMap<&str, &DemoItem>,
    start: jiff::civil::Date,
    today: jiff::civil::Date,
    site: &OrgNode,
    size: DemoSize,
    scale: i64,
    rng: &mut Rng,
) -> Vec<PlannedDoc> {
    let is_store = site.kind == "store";
    let info = |i: &Item| {
        let d = by_code.get(i.code.as_str());
        (
            d.map(|d| d.daily_use).unwrap_or(1) * scale,
            d.map(|d| d.cost).unwrap_or(100),
            d.and_then(|d| d.pack).map(|(_, p)| p).unwrap_or(1).max(1),
        )
    };
    let mut onhand: Vec<i64> = Vec::with_capacity(kept.len());
    let mut opening = Vec::new();
    for (idx, i) in kept.iter().enumerate() {
        let (use_day, cost, _) = info(i);
        let qty = use_day * rng.range(6, 9) * MICRO;
        onhand.push(qty);
        opening.push(PlannedLine {
            idx,
            qty,
            value: Some(qty / MICRO * cost),
            reason: None,
        });
    }
    let mut docs = vec![PlannedDoc {
        date: start,
        kind: "opening",
        reference: Some("OPENING".into()),
        lines: opening,
    }];
    if size == DemoSize::Small {
        return docs;
    }
    let cycle_days = if is_store { 11 } else { 21 };
    let mut deliveries = 0usize;
    let mut day = start;
    while day < today {
        day = match day.tomorrow() {
            Ok(d) => d,
            Err(_) => break,
        };
        let wd = day.weekday().to_monday_one_offset();
        let delivery = if is_store {
            wd == 2 || wd == 5
        } else {
            wd == 1
        };
        if delivery {
            deliveries += 1;
            let drift = 100 + (deliveries as i64 % 9) - 4;
            let mut lines = Vec::new();
            for (idx, i) in kept.iter().enumerate() {
                if !(idx + deliveries).is_multiple_of(3) {
                    continue;
                }
                let (use_day, cost, per_pack) = info(i);
                let target = use_day * (cycle_days + 10) * MICRO;
                let have = onhand[idx];
                if have >= target {
                    continue;
                }
                let need_units = (target - have + MICRO - 1) / MICRO;
                let packs = (need_units + per_pack - 1) / per_pack;
                let qty = packs * per_pack;
                let price = cost * (drift + rng.range(-2, 2)) / 100;
                onhand[idx] += qty * MICRO;
                lines.push(PlannedLine {
                    idx,
                    qty: qty * MICRO,
                    value: Some(qty * price),
                    reason: None,
                });
            }
            docs.push(PlannedDoc {
                date: day,
                kind: "receipt",
                reference: Some(format!(
                    "GRN-{}-{deliveries:03}",
                    day.to_string().replace('-', "")
                )),
                lines,
            });
        }
        let weekend = wd >= 6;
        let mut lines = Vec::new();
        for (idx, i) in kept.iter().enumerate() {
            if !rng.chance(10) {
                continue;
            }
            let (use_day, _, _) = info(i);
            let base = use_day * 10 * if weekend { 13 } else { 10 } / 10;
            let q = base * MICRO / 2 + rng.range(0, base * MICRO);
            onhand[idx] -= q;
            lines.push(PlannedLine {
                idx,
                qty: -q,
                value: None,
                reason: None,
            });
        }
        docs.push(PlannedDoc {
            date: day,
            kind: "issue",
            reference: None,
            lines,
        });
        if is_store && rng.chance(30) {
            let mut lines = Vec::new();
            for (idx, i) in kept.iter().enumerate() {
                if i.storage_type == "ambient" || !rng.chance(6) {
                    continue;
                }
                let q = rng.range(1, 4) * MICRO / 4;
                onhand[idx] -= q;
                lines.push(PlannedLine {
                    idx,
                    qty: -q,
                    value: None,
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
        assert!((750..=900).contains(&c.len()), "{} items", c.len());
        let mut codes: Vec<&str> = c.iter().map(|d| d.input.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), c.len(), "codes are unique");
        assert!(catalogue(DemoSize::Small).len() < 80);
    }

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.range(0, 1000), b.range(0, 1000));
        }
    }
}
