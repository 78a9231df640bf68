/**
 * Value pools for generated events. Every string here is plain ASCII without quotes or
 * backslashes, so the generator can splice them into JSON text without escaping (each pool is
 * still passed through JSON.stringify once, at load, to be safe).
 */

/** A browser/device profile: the Page* fields that must agree with each other. */
export interface AgentProfile {
  agent: string;
  browser: string;
  browserVersion: string;
  device: 'Desktop' | 'Mobile' | 'Tablet';
  os: string;
  platform: string;
  screen: [number, number];
  viewport: [number, number];
}

export const AGENTS: AgentProfile[] = [
  {
    agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    browser: 'Chrome', browserVersion: '120.0.0.0', device: 'Desktop', os: 'Windows', platform: 'Web', screen: [1920, 1080], viewport: [1903, 961],
  },
  {
    agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
    browser: 'Safari', browserVersion: '17.2', device: 'Desktop', os: 'OS X', platform: 'Web', screen: [1440, 900], viewport: [1440, 789],
  },
  {
    agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
    browser: 'Firefox', browserVersion: '121.0', device: 'Desktop', os: 'Linux', platform: 'Web', screen: [2560, 1440], viewport: [2543, 1307],
  },
  {
    agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
    browser: 'Mobile Safari', browserVersion: '17.2', device: 'Mobile', os: 'iOS', platform: 'Web', screen: [390, 844], viewport: [390, 664],
  },
  {
    agent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
    browser: 'Chrome Mobile', browserVersion: '120.0.6099.144', device: 'Mobile', os: 'Android', platform: 'Web', screen: [412, 915], viewport: [412, 777],
  },
  {
    agent: 'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
    browser: 'Mobile Safari', browserVersion: '16.6', device: 'Tablet', os: 'iOS', platform: 'Web', screen: [820, 1180], viewport: [820, 1106],
  },
  {
    agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
    browser: 'Edge', browserVersion: '120.0.2210.91', device: 'Desktop', os: 'Windows', platform: 'Web', screen: [1536, 864], viewport: [1519, 730],
  },
];

export const ORIGIN = 'https://fruitshoppe.example.com';

/** [path, page name] pairs. */
export const PAGES: [string, string][] = [
  ['/', 'Home'],
  ['/#/', 'Home'],
  ['/#/fruits/apples', 'Product List'],
  ['/#/fruits/bananas', 'Product List'],
  ['/#/product/lni9b33lc', 'Product Detail'],
  ['/#/product/k2x8pa01q', 'Product Detail'],
  ['/#/product/zz81mmq3e', 'Product Detail'],
  ['/#/cart', 'Cart'],
  ['/#/checkout/shipping', 'Checkout'],
  ['/#/checkout/payment', 'Checkout'],
  ['/#/account/orders?page=2&sort=desc', 'Account'],
  ['/#/search?q=organic+mango', 'Search'],
  ['/#/help/returns', 'Help'],
];

export const REFERRERS: string[] = [
  'https://www.google.com/',
  'https://www.bing.com/search?q=fresh+fruit+delivery',
  'https://duckduckgo.com/',
  'https://news.example.org/best-fruit-shops-2024',
  'https://t.co/AbC123xYz',
];

/** [text, selector token] pairs for click/change/seen targets. */
export const TARGETS: [string, string][] = [
  ['Add to Cart', 'div#app > main > div.product > button.add-to-cart'],
  ['Checkout', 'div#app > header > nav > a.checkout-link'],
  ['Apples', 'main > ul.category-list > li.category > a'],
  ['Continue to payment', 'main > form#shipping > button[type=submit]'],
  ['Search', 'header > form.search > input#search-box'],
  ['Quantity', 'main > div.product > div.qty > select.qty-select'],
  ['Place order', 'main > form#payment > div.footer > button.place-order'],
  ['Sign in', 'header > nav > ul.account > li > a.sign-in'],
  ['', 'div#app > main > div.hero-banner > img.hero'],
  ['Remove', 'main > table.cart > tbody > tr > td.actions > a.remove'],
];

export const CUSTOM_EVENTS: string[] = [
  'Product Added', 'Product Viewed', 'Checkout Started', 'Order Completed', 'Coupon Applied', 'Signed Up', 'Search Performed',
];

export const ERROR_KINDS: string[] = ['TypeError', 'ReferenceError', 'NetworkError', 'SyntaxError'];
export const SOURCE_FILES: string[] = [
  'https://fruitshoppe.example.com/static/js/main.4f2a9c1e.js',
  'https://fruitshoppe.example.com/static/js/vendor.77b3e210.js',
  'https://cdn.example.net/widgets/chat-widget.min.js',
];

/** [city label, "lat,long"] pairs. */
export const LOCATIONS: string[] = [
  '39.0481,-77.4728', '33.749,-84.388', '37.7749,-122.4194', '40.7128,-74.006', '51.5072,-0.1276', '48.8566,2.3522',
  '52.52,13.405', '35.6762,139.6503', '-33.8688,151.2093', '19.4326,-99.1332', '43.6532,-79.3832', '-23.5505,-46.6333',
];

export const FIRST_NAMES: string[] = ['Daniel', 'Maria', 'Wei', 'Aisha', 'John', 'Sofia', 'Kenji', 'Olga', 'Pedro', 'Fatima', 'Liam', 'Chloe'];
export const LAST_NAMES: string[] = ['Falko', 'Garcia', 'Chen', 'Khan', 'Smith', 'Rossi', 'Tanaka', 'Ivanova', 'Silva', 'Haddad', 'Murphy', 'Martin'];
export const EMAIL_DOMAINS: string[] = ['example.com', 'example.org', 'mail.example.net'];

export const PLANS: string[] = ['free', 'basic', 'pro', 'enterprise'];
export const ROLES: string[] = ['admin', 'editor', 'viewer', 'billing'];
export const SECTIONS: string[] = ['catalog', 'checkout', 'account', 'support', 'marketing'];
export const PRODUCTS: string[] = ['lni9b33lc', 'k2x8pa01q', 'zz81mmq3e', 'p0o9i8u7y', 'q1w2e3r4t'];
export const UNITS: string[] = ['lb', 'kg', 'each', 'bunch'];

/** Mobile app profiles for native (non-web) sessions. */
export interface AppProfile {
  name: string;
  pkg: string;
  model: string;
  vendor: string;
  version: string;
  osVersion: string;
  os: string;
  screen: [number, number];
}

export const APPS: AppProfile[] = [
  { name: 'FruitShoppe', pkg: 'com.example.fruitshoppe', model: 'iPhone15,2', vendor: 'Apple', version: '4.2.1', osVersion: '17.2', os: 'iOS', screen: [393, 852] },
  { name: 'FruitShoppe', pkg: 'com.example.fruitshoppe', model: 'Pixel 7', vendor: 'Google', version: '4.2.0', osVersion: '14', os: 'Android', screen: [412, 915] },
];
export const APP_VIEWS: string[] = ['HomeViewController', 'ProductListActivity', 'ProductDetailFragment', 'CartViewController', 'CheckoutActivity'];
