import type { ImageKind, SwatchName } from './images'

// The demo shop's catalog as data: collections and products with their options, prices and
// pictures. demo/seed.ts writes it into an empty store.

export const DAY = 24 * 60 * 60 * 1000

const APPAREL = ['XS', 'S', 'M', 'L', 'XL'] as const
const TAILORED = ['S', 'M', 'L', 'XL'] as const
const SOCK_AND_HAT = ['S/M', 'L/XL'] as const

export type CollectionSlug = 'outerwear' | 'tops' | 'knitwear' | 'accessories' | 'home' | 'new-arrivals' | 'gifts-under-50'

export const COLLECTIONS: { slug: CollectionSlug; title: string; description: string; isFeatured: boolean }[] = [
  { slug: 'new-arrivals', title: 'New Arrivals', description: 'Fresh in the last two weeks: the newest things on our shelves.', isFeatured: true },
  { slug: 'outerwear', title: 'Outerwear', description: 'Shells, vests and coats for weather that changes its mind.', isFeatured: true },
  { slug: 'tops', title: 'Tops', description: 'Tees, sweatshirts and shirts in organic cotton and good, honest weights.', isFeatured: false },
  { slug: 'knitwear', title: 'Knitwear', description: 'Wool and merino, knitted to last a decade of winters.', isFeatured: false },
  { slug: 'accessories', title: 'Accessories', description: 'Caps, beanies, socks and bags: the things you grab on the way out.', isFeatured: false },
  { slug: 'home', title: 'Home & Camp', description: 'Mugs, candles, blankets and notebooks for slow mornings, indoors or out.', isFeatured: false },
  { slug: 'gifts-under-50', title: 'Gifts under $50', description: 'Small, useful, well-made things that are easy to give.', isFeatured: true },
]

export type DemoProduct = {
  slug: string
  title: string
  /** SKU prefix: HRJ -> HRJ-NAVY-M */
  code: string
  kind: ImageKind
  description: string
  priceCents: number
  /** How long ago it was added, so "newest first" means something. */
  daysAgo: number
  collections: CollectionSlug[]
  sizes?: readonly string[]
  priceBySize?: Record<string, number>
  colours?: SwatchName[]
  /** The picture's colour for a product sold in one colour. */
  swatch?: SwatchName
  /** Pictures for a one-colour product: the front only, or the front and a close-up. */
  views?: 1 | 2
  labelLines?: string[]
  isFeatured?: boolean
  status?: 'draft'
  /** SKU -> stock, for the nearly and fully sold-out ones; the rest get a steady amount. */
  stock?: Record<string, number>
}

export const CATALOG: DemoProduct[] = [
  {
    slug: 'harbor-rain-jacket',
    title: 'Harbor Rain Jacket',
    code: 'HRJ',
    kind: 'jacket',
    description:
      'Our everyday storm shell, cut from three-layer recycled nylon with a 20,000 mm waterproof rating and fully taped seams. A stiffened peak and a one-pull adjuster keep the hood where you point it, and the diagonal chest pocket takes a phone you can reach with gloves on. Regular fit with room for a fleece underneath. Machine wash cold and tumble dry low to refresh the water-repellent finish.',
    priceCents: 19800,
    daysAgo: 12,
    collections: ['outerwear'],
    sizes: APPAREL,
    colours: ['Navy', 'Olive', 'Rust'],
    isFeatured: true,
    stock: { 'HRJ-RUST-XS': 0, 'HRJ-NAVY-M': 2, 'HRJ-OLIVE-L': 1 },
  },
  {
    slug: 'packable-wind-shell',
    title: 'Packable Wind Shell',
    code: 'PWS',
    kind: 'anorak',
    description:
      'A featherweight pullover for breezy ridgelines and bike commutes, in a 40-denier ripstop nylon that stuffs into its own kangaroo pocket. The half zip and stand collar vent quickly, and a PFC-free finish shrugs off a passing shower. Relaxed fit; size down for a closer cut. Machine wash cold, hang dry.',
    priceCents: 9800,
    daysAgo: 5,
    collections: ['outerwear'],
    sizes: APPAREL,
    colours: ['Sky', 'Sand'],
    stock: { 'PWS-SKY-XS': 0, 'PWS-SAND-M': 3 },
  },
  {
    slug: 'ridgeline-quilted-vest',
    title: 'Ridgeline Quilted Vest',
    code: 'RQV',
    kind: 'vest',
    description:
      'Light warmth for the shoulder seasons: recycled polyester insulation quilted in horizontal channels so it never clumps, under a soft, wind-resistant shell. Zip hand pockets, a stand collar and bound armholes that layer cleanly under a jacket. Machine wash cold; tumble dry low with a clean tennis ball to bring back the loft.',
    priceCents: 12800,
    daysAgo: 40,
    collections: ['outerwear'],
    sizes: APPAREL,
    colours: ['Sage', 'Black'],
  },
  {
    slug: 'field-chore-coat',
    title: 'Field Chore Coat',
    code: 'FCC',
    kind: 'coat',
    description:
      'A workwear classic in 12 oz organic cotton duck canvas that softens and fades a little more with every wear. Five corozo-nut buttons, two deep patch pockets and a chest pocket sized for a notebook. Boxy, hip-length fit. Wash cold inside out; expect about 3% shrinkage the first time it meets a hot dryer.',
    priceCents: 16800,
    daysAgo: 65,
    collections: ['outerwear'],
    sizes: TAILORED,
    colours: ['Duck', 'Indigo'],
    stock: { 'FCC-INDIGO-XL': 1 },
  },
  {
    slug: 'drift-fleece-half-zip',
    title: 'Drift Fleece Half-Zip',
    code: 'DFH',
    kind: 'fleece',
    description:
      'A midweight fleece knitted from recycled bottles and brushed on both sides, so it is soft against a tee and pills less on the outside. Half zip with a stand collar, a patch chest pocket for a phone or lip balm, and rib cuffs and hem that hold in the warmth. Trim fit through the body. Machine wash cold, tumble dry low.',
    priceCents: 8800,
    daysAgo: 30,
    collections: ['outerwear', 'tops'],
    sizes: APPAREL,
    colours: ['Forest', 'Oat'],
  },
  {
    slug: 'everyday-organic-tee',
    title: 'Everyday Organic Tee',
    code: 'EOT',
    kind: 'tee',
    description:
      'The tee we reach for first: 180 gsm GOTS-certified organic cotton jersey, garment-washed so it is soft from day one and keeps its shape wash after wash. A narrow rib collar, a straight hem and a true-to-size regular fit. Wash cold with like colours; tumble dry low.',
    priceCents: 3200,
    daysAgo: 86,
    collections: ['tops'],
    sizes: APPAREL,
    colours: ['White', 'Black', 'Clay'],
    isFeatured: true,
    stock: { 'EOT-CLAY-XS': 2 },
  },
  {
    slug: 'heavyweight-pocket-tee',
    title: 'Heavyweight Pocket Tee',
    code: 'HPT',
    kind: 'pocket-tee',
    description:
      'A boxy 240 gsm tee in combed cotton with a dense, structured drape and a chest pocket that stays flat. Dropped shoulders and a slightly cropped body; size down for a standard fit. Wash cold and hang dry to keep the shape.',
    priceCents: 3800,
    daysAgo: 20,
    collections: ['tops'],
    sizes: APPAREL,
    colours: ['Ecru', 'Navy'],
  },
  {
    slug: 'waffle-knit-henley',
    title: 'Waffle Knit Henley',
    code: 'WKH',
    kind: 'henley',
    description:
      'Thermal waffle knit in a cotton and modal blend that traps warmth without the bulk. A three-button placket with corozo buttons, a slim-regular fit and long sleeves cut to push up. Wash cold, lay flat to dry.',
    priceCents: 5800,
    daysAgo: 55,
    collections: ['tops'],
    sizes: APPAREL,
    colours: ['Oat', 'Charcoal'],
  },
  {
    slug: 'breton-stripe-long-sleeve',
    title: 'Breton Stripe Long Sleeve',
    code: 'BST',
    kind: 'breton',
    description:
      'A classic Breton in heavyweight cotton jersey, striped from the chest down in the traditional spacing. Relaxed through the body with a clean crew neck and sleeves that land just past the wrist. The stripes are yarn-dyed, so they stay crisp; wash cold and tumble dry low.',
    priceCents: 4800,
    daysAgo: 8,
    collections: ['tops'],
    sizes: APPAREL,
    colours: ['Navy Stripe', 'Red Stripe'],
  },
  {
    slug: 'loopback-hoodie',
    title: 'Loopback Hoodie',
    code: 'LBH',
    kind: 'hoodie',
    description:
      'Midweight 400 gsm loopback cotton terry, garment-dyed for a rich, slightly lived-in colour. A double-layer hood with flat cotton drawcords and metal aglets, a kangaroo pocket and generous rib cuffs and hem. Regular fit. Wash cold inside out; the loopback inside softens with every wash.',
    priceCents: 8800,
    daysAgo: 70,
    collections: ['tops'],
    sizes: APPAREL,
    colours: ['Heather Grey', 'Forest', 'Navy'],
    isFeatured: true,
    stock: { 'LBH-FOREST-M': 3, 'LBH-NAVY-XS': 1 },
  },
  {
    slug: 'harbor-crewneck-sweatshirt',
    title: 'Harbor Crewneck Sweatshirt',
    code: 'HCS',
    kind: 'sweatshirt',
    description:
      'Our crewneck in the same 400 gsm loopback cotton as the hoodie, with a V insert at the neck that stops it stretching out. Set-in sleeves, wide rib cuffs and a hem that sits at the hip. Wash cold inside out, tumble dry low.',
    priceCents: 7800,
    daysAgo: 45,
    collections: ['tops'],
    sizes: APPAREL,
    colours: ['Rust', 'Ecru'],
  },
  {
    slug: 'oxford-button-down',
    title: 'Oxford Button-Down',
    code: 'OBD',
    kind: 'shirt',
    description:
      'Soft, hard-wearing Oxford cloth in 100% cotton, cut with a rolled button-down collar, a chest pocket and a box pleat at the back. A regular fit that tucks in or wears out. Machine wash warm; it irons easily, but we like it straight off the line.',
    priceCents: 7200,
    daysAgo: 60,
    collections: ['tops'],
    sizes: TAILORED,
    colours: ['Light Blue', 'White'],
  },
  {
    slug: 'fisherman-wool-sweater',
    title: 'Fisherman Wool Sweater',
    code: 'FWS',
    kind: 'cable-sweater',
    description:
      'A traditional fisherman knit in 100% British wool, with three cable panels down the front and a dense rib at the cuffs and hem. Heavy, warm and naturally shower-resistant thanks to the lanolin left in the yarn. Hand wash cool and dry flat; it only gets better with age.',
    priceCents: 14800,
    daysAgo: 75,
    collections: ['knitwear'],
    sizes: APPAREL,
    colours: ['Cream', 'Navy'],
    isFeatured: true,
    stock: { 'FWS-CREAM-S': 0, 'FWS-CREAM-M': 2, 'FWS-NAVY-XL': 1 },
  },
  {
    slug: 'merino-crew-sweater',
    title: 'Merino Crew Sweater',
    code: 'MCS',
    kind: 'merino-sweater',
    description:
      'A fine-gauge 17.5-micron merino crewneck: light enough for the office, warm enough for a cold platform, and never itchy. Fully fashioned shoulders and a slim-regular fit that layers under a jacket. Machine wash cold on a wool cycle and dry flat.',
    priceCents: 11800,
    daysAgo: 50,
    collections: ['knitwear'],
    sizes: APPAREL,
    colours: ['Charcoal', 'Moss'],
  },
  {
    slug: 'ribbed-merino-beanie',
    title: 'Ribbed Merino Beanie',
    code: 'RMB',
    kind: 'beanie',
    description:
      'A deep-cuff beanie in chunky ribbed merino, with a tan leather patch stitched to the fold. The double-layer cuff keeps your ears warm; one size fits most adults. Hand wash cool and dry flat.',
    priceCents: 3600,
    daysAgo: 35,
    collections: ['knitwear', 'accessories'],
    colours: ['Rust', 'Charcoal', 'Cream'],
    stock: { 'RMB-CREAM': 2 },
  },
  {
    slug: 'cotton-bandana',
    title: 'Cotton Bandana',
    code: 'CBD',
    kind: 'bandana',
    description:
      'A 55 cm square of soft cotton lawn, printed with a medallion and dot border and finished with rolled hems. Wear it, wrap a lunch in it or tie it to a pack strap. Machine wash; it fades beautifully.',
    priceCents: 1800,
    daysAgo: 3,
    collections: ['accessories'],
    colours: ['Indigo', 'Rust'],
    stock: { 'CBD-RUST': 1 },
  },
  {
    slug: 'six-panel-canvas-cap',
    title: 'Six-Panel Canvas Cap',
    code: 'SPC',
    kind: 'cap',
    description:
      'A structured six-panel cap in washed cotton canvas with a pre-curved brim, stitched eyelets and a woven mountain patch. An adjustable brass-buckle strap at the back fits most heads. Spot clean or hand wash cold, and reshape the brim while damp.',
    priceCents: 3400,
    daysAgo: 25,
    collections: ['accessories'],
    colours: ['Khaki', 'Navy', 'Black'],
  },
  {
    slug: 'canvas-bucket-hat',
    title: 'Canvas Bucket Hat',
    code: 'CBH',
    kind: 'bucket-hat',
    description:
      'A sturdy bucket hat in 10 oz cotton canvas with a stitched, downturned brim that shades your eyes and the back of your neck. Side eyelets for airflow and a soft twill sweatband; it packs flat into a bag pocket. S/M fits 56–57 cm, L/XL fits 58–60 cm. Hand wash cold.',
    priceCents: 3800,
    daysAgo: 10,
    collections: ['accessories'],
    sizes: SOCK_AND_HAT,
    colours: ['Olive', 'Sand'],
  },
  {
    slug: 'trail-crew-socks',
    title: 'Trail Crew Socks',
    code: 'TCS',
    kind: 'socks',
    description:
      'Cushioned crew socks in a merino and nylon blend that keeps feet comfortable and dries fast on the trail. A reinforced heel and toe in a contrast colour, a supportive arch band and a rib cuff that stays up. S/M fits US women’s 5–9, L/XL fits US men’s 8–13. Machine wash warm, tumble dry low.',
    priceCents: 1800,
    daysAgo: 80,
    collections: ['accessories'],
    sizes: SOCK_AND_HAT,
    colours: ['Oat', 'Forest'],
  },
  {
    slug: 'everyday-sock-three-pack',
    title: 'Everyday Sock 3-Pack',
    code: 'ESP',
    kind: 'socks',
    description:
      'Three pairs of everyday crew socks in organic cotton with a touch of stretch, in heather grey, oat and navy. Flat toe seams, a cushioned sole and a cuff that never pinches. One size fits US 6–12. Machine wash warm.',
    priceCents: 2800,
    daysAgo: 58,
    collections: ['accessories'],
    swatch: 'Heather Grey',
    views: 1,
  },
  {
    slug: 'canvas-market-tote',
    title: 'Canvas Market Tote',
    code: 'CMT',
    kind: 'tote',
    description:
      'A roomy tote in 14 oz organic cotton canvas, with webbing handles box-stitched for the heaviest grocery runs. Long enough to carry on the shoulder, with an inside slip pocket for keys. 40 × 38 × 12 cm. Spot clean, or hand wash cold and line dry.',
    priceCents: 4200,
    daysAgo: 88,
    collections: ['accessories'],
    colours: ['Natural', 'Black'],
    isFeatured: true,
  },
  {
    slug: 'roll-top-daypack',
    title: 'Roll-Top Daypack 20L',
    code: 'RTD',
    kind: 'backpack',
    description:
      'A weatherproof daypack in recycled 600D polyester with a waterproof coating and a roll top that grows from 20 to 24 litres. A padded sleeve fits a 15-inch laptop, a zip front pocket keeps small things to hand, and padded straps carry it all day. Wipe clean with a damp cloth.',
    priceCents: 14800,
    daysAgo: 15,
    collections: ['accessories'],
    colours: ['Olive', 'Black'],
    isFeatured: true,
    stock: { 'RTD-OLIVE': 2 },
  },
  {
    slug: 'waxed-canvas-dopp-kit',
    title: 'Waxed Canvas Dopp Kit',
    code: 'WDK',
    kind: 'pouch',
    description:
      'A wash bag in waxed cotton canvas with a vegetable-tanned leather base and a brass zip. Water-resistant inside and out, wide enough to stand open on a shelf, with a leather loop to carry or hang it. Rewax once a year to keep it weatherproof.',
    priceCents: 4800,
    daysAgo: 42,
    collections: ['accessories'],
    swatch: 'Tobacco',
  },
  {
    slug: 'enamel-camp-mug',
    title: 'Enamel Camp Mug',
    code: 'ECM',
    kind: 'mug',
    description:
      'Hand-dipped enamel on steel with a rolled rim, speckled in the classic camp-mug style. Holds 350 ml, sits happily on a camp stove and is light enough to clip to a pack. Hand wash; enamel can chip if dropped, which we think only adds character.',
    priceCents: 2400,
    daysAgo: 77,
    collections: ['home'],
    colours: ['Speckled Blue', 'Cream'],
    stock: { 'ECM-CREAM': 3 },
  },
  {
    slug: 'insulated-water-bottle',
    title: 'Insulated Water Bottle',
    code: 'IWB',
    kind: 'bottle',
    description:
      'Double-wall vacuum-insulated 18/8 stainless steel keeps drinks cold for 24 hours or hot for 12. A powder-coated grip finish, a leakproof loop cap and a mouth wide enough for ice cubes. Comes in 500 ml and 750 ml. Hand wash only.',
    priceCents: 3800,
    priceBySize: { '500 ml': 3200, '750 ml': 3800 },
    daysAgo: 22,
    collections: ['home', 'accessories'],
    sizes: ['500 ml', '750 ml'],
    colours: ['Sage', 'Stone', 'Black'],
    stock: { 'IWB-STONE-500': 0 },
  },
  {
    slug: 'dot-grid-notebook',
    title: 'Dot Grid Notebook',
    code: 'DGN',
    kind: 'notebook',
    description:
      'An A5 notebook with 192 numbered pages of 100 gsm ivory paper, printed with a light dot grid that works for writing, lists and sketches. Lay-flat binding, an elastic closure, a ribbon marker and an index at the front. Pencil not included.',
    priceCents: 1800,
    daysAgo: 68,
    collections: ['home'],
    colours: ['Kraft', 'Navy'],
  },
  {
    slug: 'cedar-sea-salt-candle',
    title: 'Cedar & Sea Salt Candle',
    code: 'CSC',
    kind: 'candle',
    description:
      'Hand-poured in small batches from coconut and soy wax into an amber glass jar, with notes of Atlas cedar, sea salt and a wisp of woodsmoke. A cotton wick and about 50 hours of burn time from 8 oz of wax. Trim the wick to 5 mm before each burn.',
    priceCents: 3200,
    daysAgo: 18,
    collections: ['home'],
    swatch: 'Amber',
    labelLines: ['NO. 04', 'CEDAR &', 'SEA SALT', 'SOY WAX · 8 OZ'],
  },
  {
    slug: 'fig-leaf-candle',
    title: 'Fig Leaf Candle',
    code: 'FLC',
    kind: 'candle',
    description:
      'Green fig, crushed leaves and a soft woody base, hand-poured from coconut and soy wax into a recycled green glass jar. Around 50 hours of burn time, and the jar makes a good pencil pot afterwards. Our last batch sold out; the next pour is curing now.',
    priceCents: 3200,
    daysAgo: 48,
    collections: ['home'],
    swatch: 'Bottle Green',
    labelLines: ['NO. 07', 'FIG', 'LEAF', 'SOY WAX · 8 OZ'],
    views: 1,
    stock: { FLC: 0 },
  },
  {
    slug: 'wool-camp-blanket',
    title: 'Wool Camp Blanket',
    code: 'WCB',
    kind: 'blanket',
    description:
      'A heavy, warm throw woven from recycled wool in a traditional check and finished with a fringed edge. Big enough for two on a cold beach at 150 × 200 cm, and tough enough to live in the back of the car. Spot clean or dry clean; air it outside to freshen it up.',
    priceCents: 13800,
    daysAgo: 28,
    collections: ['home'],
    colours: ['Forest', 'Oat'],
  },
  {
    slug: 'linen-tea-towel-set',
    title: 'Linen Tea Towel Set',
    code: 'LTT',
    kind: 'towels',
    description:
      'Two tea towels in stonewashed European flax linen with a woven rust stripe and a corner hanging loop. Linen dries quickly and grows more absorbent with every wash. 50 × 70 cm each. Machine wash warm.',
    priceCents: 2800,
    daysAgo: 6,
    collections: ['home'],
    swatch: 'Linen',
  },
  {
    slug: 'alpine-down-parka',
    title: 'Alpine Down Parka',
    code: 'ADP',
    kind: 'parka',
    description:
      'Our warmest coat yet: 700-fill responsibly sourced down in box-baffled channels, under a windproof recycled-polyester face with a fixed, insulated hood. Two-way zip, fleece-lined hand pockets and a thigh-length cut. Arriving this winter.',
    priceCents: 24000,
    daysAgo: 1,
    collections: ['outerwear'],
    sizes: ['S', 'M', 'L'],
    colours: ['Black'],
    status: 'draft',
  },
]

