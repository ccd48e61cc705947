/**
 * The words catalogues use, in English, German, Italian, Spanish and French: column headers
 * and specification labels, finishes, wood species, product category words, and the section
 * titles that name no product. The catalogue reader matches them accent- and case-insensitively.
 */
import { ProductCategory } from './material.js';

/** A property a column header or a specification label names. */
export type CatalogueField =
  | 'name'
  | 'format'
  | 'thickness'
  | 'finish'
  | 'colour'
  | 'slipRating'
  | 'pei'
  | 'species'
  | 'grade'
  | 'wearLayer'
  | 'origin'
  | 'density'
  | 'absorption'
  | 'category'
  /** An article number or code: one token, kept out of the name. */
  | 'code'
  /** A column the reader does not use (packaging, price…). */
  | 'other';

/**
 * Labels of each field (lower case, accents removed). A header cell or a label matches when
 * it is one of them, optionally followed by a unit in brackets (`Format (cm)`, `Stärke mm`).
 */
export const FIELD_LABELS: Readonly<Record<CatalogueField, readonly string[]>> = {
  name: [
    'product', 'product name', 'name', 'article', 'item', 'model', 'design', 'decor', 'description', 'product description',
    'artikel', 'bezeichnung', 'produkt', 'modell', 'sorte', 'dekor', 'steinsorte', 'handelsname', 'serie', 'series',
    'nome', 'articolo', 'prodotto', 'modello', 'descrizione',
    'producto', 'nombre', 'modelo', 'articulo', 'descripcion',
    'produit', 'nom', 'modele', 'decor', 'designation',
  ],
  format: [
    'format', 'formats', 'size', 'sizes', 'dimension', 'dimensions', 'tile size', 'plank size', 'board size', 'slab size',
    'grosse', 'groesse', 'formate', 'abmessung', 'abmessungen', 'masse', 'plattenformat', 'dielenformat',
    'formato', 'formati', 'dimensioni', 'misura', 'misure',
    'tamano', 'tamanos', 'medida', 'medidas', 'dimensiones', 'formatos',
    'taille', 'tailles', 'dimensions', 'format',
  ],
  thickness: ['thickness', 'thick', 'starke', 'staerke', 'dicke', 'materialstarke', 'plattenstarke', 'spessore', 'espesor', 'grosor', 'epaisseur'],
  finish: [
    'finish', 'finishes', 'surface', 'surface finish', 'oberflache', 'oberflaeche', 'bearbeitung', 'oberflachen',
    'finitura', 'finiture', 'superficie', 'acabado', 'acabados', 'finition', 'finitions',
  ],
  colour: ['colour', 'color', 'colours', 'colors', 'shade', 'coloris', 'colori disponibili', 'farbe', 'farbton', 'farben', 'colore', 'colori', 'tonalita', 'tono', 'couleur', 'couleurs', 'teinte'],
  slipRating: [
    'slip', 'r', 'r value', 'slip rating', 'slip resistance', 'anti-slip', 'anti slip', 'r rating', 'r-value', 'din 51130',
    'rutschhemmung', 'rutschfestigkeit', 'trittsicherheit', 'antiscivolo', 'scivolosita', 'resistenza allo scivolamento',
    'resistencia al deslizamiento', 'resbaladicidad', 'antideslizante', 'deslizamiento', 'glissance', 'adherence', 'resistance a la glissance',
  ],
  pei: ['pei', 'pei class', 'abrasion', 'abrasion class', 'abriebklasse', 'abrieb', 'classe pei', 'clase pei', 'resistenza all abrasione'],
  species: ['species', 'wood species', 'wood', 'timber', 'holzart', 'holz', 'essenza', 'legno', 'especie', 'madera', 'essence', 'bois'],
  grade: ['grade', 'grading', 'sortierung', 'qualitat', 'guteklasse', 'scelta', 'selezione', 'classe', 'calidad', 'clase', 'seleccion', 'choix', 'qualite'],
  wearLayer: [
    'wear layer', 'wearlayer', 'top layer', 'veneer', 'nutzschicht', 'deckschicht', 'verschleissschicht', 'strato nobile', 'strato d usura',
    'strato di usura', 'capa de uso', 'capa noble', 'capa de desgaste', 'couche d usure', 'couche noble', 'couche d\'usure',
  ],
  origin: ['origin', 'country of origin', 'quarry', 'herkunft', 'ursprung', 'herkunftsland', 'provenienza', 'origine', 'cava', 'origen', 'procedencia', 'cantera', 'provenance', 'pays d origine'],
  density: ['density', 'bulk density', 'rohdichte', 'dichte', 'densita', 'massa volumica', 'peso specifico', 'densidad', 'densidad aparente', 'densite', 'masse volumique'],
  absorption: [
    'water absorption', 'absorption', 'wasseraufnahme', 'wasseraufnahme gewicht', 'assorbimento', 'assorbimento d acqua', 'assorbimento acqua',
    'absorcion', 'absorcion de agua', 'absorption d eau', 'absorption d\'eau', 'porosite',
  ],
  code: [
    'code', 'item code', 'item no', 'article no', 'art no', 'sku', 'ean', 'ref', 'reference', 'ref no', 'artikelnummer', 'art nr', 'artikel nr',
    'bestellnummer', 'codice', 'cod', 'codice articolo', 'codigo', 'referencia', 'ref n', 'reference produit', 'code article',
  ],
  other: [],
  category: ['type', 'product type', 'category', 'typ', 'produktart', 'kategorie', 'tipo', 'tipologia', 'categoria', 'tipo de producto', 'categorie'],
};

/** Surface finishes in five languages, each mapped to one English name. */
export const FINISH_WORDS: Readonly<Record<string, string>> = {
  matt: 'matt', matte: 'matt', mat: 'matt', 'matt finish': 'matt', opaco: 'matt', opaca: 'matt', mate: 'matt', naturale: 'natural',
  natural: 'natural', natur: 'natural', naturel: 'natural', naturelle: 'natural',
  polished: 'polished', poliert: 'polished', lucido: 'polished', lucidato: 'polished', pulido: 'polished', poli: 'polished', polie: 'polished', brillo: 'gloss',
  honed: 'honed', geschliffen: 'honed', 'semi-lucido': 'honed', apomazado: 'honed', adouci: 'honed', levigato: 'honed', levigata: 'honed', satinato: 'satin', satin: 'satin', satinado: 'satin', satine: 'satin', seidenmatt: 'satin',
  lappato: 'lappato', lapado: 'lappato', lappata: 'lappato', 'semi-polished': 'lappato', semipoliert: 'lappato',
  structured: 'structured', textured: 'structured', strukturiert: 'structured', struttura: 'structured', strutturato: 'structured', estructurado: 'structured', structure: 'structured', structuree: 'structured',
  flamed: 'flamed', geflammt: 'flamed', fiammato: 'flamed', flameado: 'flamed', flamme: 'flamed',
  brushed: 'brushed', gebürstet: 'brushed', gebuerstet: 'brushed', geburstet: 'brushed', spazzolato: 'brushed', cepillado: 'brushed', brosse: 'brushed',
  'bush-hammered': 'bush-hammered', 'bush hammered': 'bush-hammered', gestockt: 'bush-hammered', bocciardato: 'bush-hammered', abujardado: 'bush-hammered', boucharde: 'bush-hammered',
  sandblasted: 'sandblasted', sandgestrahlt: 'sandblasted', sabbiato: 'sandblasted', arenado: 'sandblasted', chorreado: 'sandblasted', sablee: 'sandblasted',
  tumbled: 'tumbled', getrommelt: 'tumbled', anticato: 'tumbled', burattato: 'tumbled', envejecido: 'tumbled', vieilli: 'tumbled',
  leathered: 'leathered', 'leather finish': 'leathered', spaccato: 'split', split: 'split', 'split face': 'split', spaltrau: 'split', 'cleft': 'split', 'natural cleft': 'split',
  sawn: 'sawn', gesagt: 'sawn', segato: 'sawn', aserrado: 'sawn', scie: 'sawn',
  oiled: 'oiled', geolt: 'oiled', geoelt: 'oiled', oliato: 'oiled', aceitado: 'oiled', huile: 'oiled',
  lacquered: 'lacquered', lackiert: 'lacquered', verniciato: 'lacquered', laccato: 'lacquered', barnizado: 'lacquered', lacado: 'lacquered', vernis: 'lacquered', verni: 'lacquered',
  'uv-oiled': 'uv-oiled', 'uv oiled': 'uv-oiled', 'brushed oiled': 'brushed oiled',
  gloss: 'gloss', glossy: 'gloss', glanzend: 'gloss', glaenzend: 'gloss', brillante: 'gloss', brillant: 'gloss',
  embossed: 'embossed', gepragt: 'embossed', goffrato: 'embossed', gofrado: 'embossed', embosse: 'embossed',
  'anti-slip': 'anti-slip', antislip: 'anti-slip', rutschhemmend: 'anti-slip', antiscivolo: 'anti-slip', antideslizante: 'anti-slip', antiderapant: 'anti-slip', grip: 'anti-slip',
  'grip finish': 'anti-slip',
};

/** Wood species in five languages, mapped to their English name. */
export const SPECIES_WORDS: Readonly<Record<string, string>> = {
  oak: 'oak', 'european oak': 'oak', 'white oak': 'white oak', eiche: 'oak', rovere: 'oak', quercia: 'oak', roble: 'oak', chene: 'oak',
  walnut: 'walnut', 'american walnut': 'walnut', nussbaum: 'walnut', noce: 'walnut', nogal: 'walnut', noyer: 'walnut',
  ash: 'ash', esche: 'ash', frassino: 'ash', fresno: 'ash', frene: 'ash',
  maple: 'maple', ahorn: 'maple', acero: 'maple', arce: 'maple', erable: 'maple',
  beech: 'beech', buche: 'beech', faggio: 'beech', haya: 'beech', hetre: 'beech',
  larch: 'larch', larche: 'larch', laerche: 'larch', larice: 'larch', alerce: 'larch', meleze: 'larch',
  pine: 'pine', kiefer: 'pine', pino: 'pine', pin: 'pine',
  cherry: 'cherry', kirsche: 'cherry', ciliegio: 'cherry', cerezo: 'cherry', merisier: 'cherry',
  teak: 'teak', tek: 'teak', teck: 'teak', iroko: 'iroko', doussie: 'doussie', wenge: 'wenge', merbau: 'merbau', jatoba: 'jatoba', birch: 'birch', birke: 'birch', betulla: 'birch', abedul: 'birch', bouleau: 'birch',
  bamboo: 'bamboo', bambus: 'bamboo', bambu: 'bamboo', bambou: 'bamboo', douglas: 'douglas fir', 'douglas fir': 'douglas fir', douglasie: 'douglas fir',
};

/**
 * Words that say which kind of product a line or a document is about, with the category and
 * the base material they imply (null when the word names the product kind only).
 */
export const CATEGORY_WORDS: Readonly<Record<string, { category: ProductCategory; material: string | null }>> = {
  porcelain: { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  'porcelain stoneware': { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  'porcelain tile': { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  ceramic: { category: ProductCategory.Tile, material: 'ceramic' },
  tile: { category: ProductCategory.Tile, material: null },
  tiles: { category: ProductCategory.Tile, material: null },
  mosaic: { category: ProductCategory.Tile, material: null },
  feinsteinzeug: { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  steinzeug: { category: ProductCategory.Tile, material: 'stoneware' },
  keramik: { category: ProductCategory.Tile, material: 'ceramic' },
  fliese: { category: ProductCategory.Tile, material: null },
  fliesen: { category: ProductCategory.Tile, material: null },
  'gres porcellanato': { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  gres: { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  ceramica: { category: ProductCategory.Tile, material: 'ceramic' },
  piastrella: { category: ProductCategory.Tile, material: null },
  piastrelle: { category: ProductCategory.Tile, material: null },
  porcelanico: { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  'gres porcelanico': { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  azulejo: { category: ProductCategory.Tile, material: null },
  azulejos: { category: ProductCategory.Tile, material: null },
  baldosa: { category: ProductCategory.Tile, material: null },
  baldosas: { category: ProductCategory.Tile, material: null },
  'gres cerame': { category: ProductCategory.Tile, material: 'porcelain stoneware' },
  carrelage: { category: ProductCategory.Tile, material: null },
  carreaux: { category: ProductCategory.Tile, material: null },
  faience: { category: ProductCategory.Tile, material: 'ceramic' },
  ceramico: { category: ProductCategory.Tile, material: 'ceramic' },
  revestimiento: { category: ProductCategory.Tile, material: 'ceramic' },
  mosaico: { category: ProductCategory.Tile, material: null },
  mosaik: { category: ProductCategory.Tile, material: null },
  wandfliese: { category: ProductCategory.Tile, material: null },
  bodenfliese: { category: ProductCategory.Tile, material: null },
  paver: { category: ProductCategory.Tile, material: null },
  marble: { category: ProductCategory.Stone, material: 'marble' },
  granite: { category: ProductCategory.Stone, material: 'granite' },
  travertine: { category: ProductCategory.Stone, material: 'travertine' },
  limestone: { category: ProductCategory.Stone, material: 'limestone' },
  sandstone: { category: ProductCategory.Stone, material: 'sandstone' },
  slate: { category: ProductCategory.Stone, material: 'slate' },
  quartzite: { category: ProductCategory.Stone, material: 'quartzite' },
  basalt: { category: ProductCategory.Stone, material: 'basalt' },
  'natural stone': { category: ProductCategory.Stone, material: null },
  marmor: { category: ProductCategory.Stone, material: 'marble' },
  granit: { category: ProductCategory.Stone, material: 'granite' },
  travertin: { category: ProductCategory.Stone, material: 'travertine' },
  kalkstein: { category: ProductCategory.Stone, material: 'limestone' },
  sandstein: { category: ProductCategory.Stone, material: 'sandstone' },
  schiefer: { category: ProductCategory.Stone, material: 'slate' },
  quarzit: { category: ProductCategory.Stone, material: 'quartzite' },
  naturstein: { category: ProductCategory.Stone, material: null },
  marmo: { category: ProductCategory.Stone, material: 'marble' },
  granito: { category: ProductCategory.Stone, material: 'granite' },
  travertino: { category: ProductCategory.Stone, material: 'travertine' },
  ardesia: { category: ProductCategory.Stone, material: 'slate' },
  'pietra naturale': { category: ProductCategory.Stone, material: null },
  marmol: { category: ProductCategory.Stone, material: 'marble' },
  caliza: { category: ProductCategory.Stone, material: 'limestone' },
  pizarra: { category: ProductCategory.Stone, material: 'slate' },
  'piedra natural': { category: ProductCategory.Stone, material: null },
  marbre: { category: ProductCategory.Stone, material: 'marble' },
  'pierre naturelle': { category: ProductCategory.Stone, material: null },
  ardoise: { category: ProductCategory.Stone, material: 'slate' },
  calcaire: { category: ProductCategory.Stone, material: 'limestone' },
  parquet: { category: ProductCategory.WoodFlooring, material: 'wood' },
  'engineered wood': { category: ProductCategory.WoodFlooring, material: 'wood' },
  'wood flooring': { category: ProductCategory.WoodFlooring, material: 'wood' },
  hardwood: { category: ProductCategory.WoodFlooring, material: 'wood' },
  plank: { category: ProductCategory.WoodFlooring, material: null },
  planks: { category: ProductCategory.WoodFlooring, material: null },
  'engineered board': { category: ProductCategory.WoodFlooring, material: 'wood' },
  'engineered oak': { category: ProductCategory.WoodFlooring, material: 'oak' },
  multilayer: { category: ProductCategory.WoodFlooring, material: 'wood' },
  'wood floor': { category: ProductCategory.WoodFlooring, material: 'wood' },
  mehrschichtparkett: { category: ProductCategory.WoodFlooring, material: 'wood' },
  'parquet multistrato': { category: ProductCategory.WoodFlooring, material: 'wood' },
  contrecolle: { category: ProductCategory.WoodFlooring, material: 'wood' },
  'parquet contrecolle': { category: ProductCategory.WoodFlooring, material: 'wood' },
  parkett: { category: ProductCategory.WoodFlooring, material: 'wood' },
  landhausdiele: { category: ProductCategory.WoodFlooring, material: 'wood' },
  dielen: { category: ProductCategory.WoodFlooring, material: 'wood' },
  holzboden: { category: ProductCategory.WoodFlooring, material: 'wood' },
  'pavimento in legno': { category: ProductCategory.WoodFlooring, material: 'wood' },
  'tarima': { category: ProductCategory.WoodFlooring, material: 'wood' },
  'suelo de madera': { category: ProductCategory.WoodFlooring, material: 'wood' },
  vinyl: { category: ProductCategory.Vinyl, material: 'vinyl' },
  lvt: { category: ProductCategory.Vinyl, material: 'vinyl' },
  spc: { category: ProductCategory.Vinyl, material: 'vinyl' },
  'luxury vinyl': { category: ProductCategory.Vinyl, material: 'vinyl' },
  vinylboden: { category: ProductCategory.Vinyl, material: 'vinyl' },
  designboden: { category: ProductCategory.Vinyl, material: 'vinyl' },
  vinile: { category: ProductCategory.Vinyl, material: 'vinyl' },
  vinilo: { category: ProductCategory.Vinyl, material: 'vinyl' },
  vinyle: { category: ProductCategory.Vinyl, material: 'vinyl' },
  laminate: { category: ProductCategory.Laminate, material: 'laminate' },
  laminat: { category: ProductCategory.Laminate, material: 'laminate' },
  laminato: { category: ProductCategory.Laminate, material: 'laminate' },
  laminado: { category: ProductCategory.Laminate, material: 'laminate' },
  stratifie: { category: ProductCategory.Laminate, material: 'laminate' },
};

/**
 * Section titles and running heads that name no product (lower case, accents removed): a
 * heading made of these words only is never a product.
 */
export const NOT_A_PRODUCT_HEADING = new Set([
  'contents', 'content', 'index', 'inhalt', 'inhaltsverzeichnis', 'indice', 'sommario', 'sommaire', 'table des matieres',
  'technical data', 'technical details', 'technical specifications', 'technical information', 'specifications', 'specification',
  'data sheet', 'product data', 'technische daten', 'technische angaben', 'datenblatt', 'dati tecnici', 'caratteristiche tecniche',
  'scheda tecnica', 'datos tecnicos', 'caracteristicas tecnicas', 'ficha tecnica', 'caracteristiques techniques', 'donnees techniques',
  'fiche technique', 'collection', 'collections', 'kollektion', 'collezione', 'coleccion', 'range', 'overview', 'ubersicht',
  'introduction', 'einleitung', 'introduzione', 'introduccion', 'about us', 'uber uns', 'chi siamo', 'quienes somos', 'qui sommes nous',
  'installation', 'installation guide', 'installation instructions', 'verlegung', 'verlegeanleitung', 'posa', 'istruzioni di posa',
  'instalacion', 'colocacion', 'pose', 'notice de pose', 'tools', 'tools required', 'you will need', 'werkzeug', 'werkzeuge', 'attrezzi',
  'herramientas', 'outils', 'preparation', 'vorbereitung', 'preparazione', 'preparacion', 'cleaning', 'maintenance', 'care', 'pflege',
  'reinigung', 'pulizia', 'manutenzione', 'limpieza', 'mantenimiento', 'entretien', 'nettoyage', 'warranty', 'garantie', 'garanzia',
  'garantia', 'contact', 'kontakt', 'contatti', 'contacto', 'notes', 'note', 'hinweis', 'hinweise', 'avvertenze', 'notas', 'remarques',
  'formats', 'formate', 'formati', 'formatos', 'finishes', 'oberflachen', 'finiture', 'acabados', 'finitions', 'colours', 'colors', 'farben',
  'colori', 'colores', 'couleurs', 'packaging', 'verpackung', 'imballo', 'embalaje', 'emballage', 'step', 'schritt', 'fase', 'paso', 'etape',
  'safety', 'sicherheit', 'sicurezza', 'seguridad', 'securite', 'accessories', 'zubehor', 'accessori', 'accesorios', 'accessoires',
  'new', 'neu', 'nuovo', 'novedad', 'nouveau', 'page', 'seite', 'pagina', 'product', 'products', 'produkte', 'prodotti', 'productos', 'produits',
  'catalogue', 'catalog', 'katalog', 'catalogo', 'price list', 'preisliste', 'listino', 'tarifa', 'tarif', 'our stones', 'unsere steine',
  'natural stone', 'naturstein', 'porcelain', 'tiles', 'parquet', 'flooring', 'the collection', 'gallery', 'inspiration', 'ispirazione',
  'inspiracion', 'design', 'wall', 'walls', 'floor', 'floors', 'indoor', 'outdoor', 'and', 'tile', 'stone', 'wood', 'vinyl', 'laminate', 'series', 'ambiente', 'ambientes', 'ambiances', 'legend', 'legende', 'legenda', 'leyenda', 'symbols', 'symbole', 'simboli',
]);

/**
 * Section titles that sit inside a product's block ("TAJ MAHAL" → "Technical data" → its
 * values): they name no product but do not end the current one either. Matched on the whole
 * title (lower case, accents removed).
 */
export const SUBSECTION_HEADING = new Set([
  'technical data', 'technical details', 'technical specifications', 'technical information', 'specifications', 'specification',
  'product data', 'technische daten', 'technische angaben', 'dati tecnici', 'caratteristiche tecniche', 'scheda tecnica', 'datos tecnicos',
  'caracteristicas tecnicas', 'ficha tecnica', 'caracteristiques techniques', 'donnees techniques', 'caracteristiques',
  'formats', 'available formats', 'sizes', 'formate', 'formati', 'formatos', 'finishes', 'oberflachen', 'finiture', 'acabados', 'finitions',
  'colours', 'colors', 'farben', 'colori', 'colores', 'couleurs', 'packaging', 'verpackung', 'imballo', 'embalaje', 'emballage',
  'properties', 'eigenschaften', 'proprieta', 'propiedades', 'proprietes',
]);

/** Lower case without accents, `'`/`-`/`_` as spaces, whitespace collapsed: the form labels are matched in. */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/['’`_-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
