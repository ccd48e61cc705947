import { describe, expect, it } from 'vitest';
import { materialKey, MaterialSchema, mergeMaterials, RuleBasedMaterialExtractor, type Material } from '@kai-jobs/workers';

const signal = new AbortController().signal;
const extractor = new RuleBasedMaterialExtractor();
const extract = (text: string, page = 1) => extractor.extract([{ page, text }], signal);
const names = (materials: Material[]) => materials.map((material) => material.name).sort();
const byName = (materials: Material[], name: string) => materials.find((material) => material.name === name);
const sizes = (material: Material | undefined) => material?.formats?.map((format) => format.valuesMm);

/** One table, its cells joined three ways: tabs (the text stage's contract), runs of spaces, single spaces. */
const TABLE = [
  ['Product', 'Format (cm)', 'Finish', 'Thickness', 'Slip', 'PEI'],
  ['Dune Sand', '60x60', 'Matt', '9 mm', 'R10', 'IV'],
  ['Dune Sand', '30x60', 'Matt', '9 mm', 'R10', 'IV'],
  ['Shell White', '60x120', 'Polished', '10 mm', 'R9', 'III'],
  ['Harbour Grey', '40x80', 'Structured', '20 mm', 'R11', 'V'],
];

describe('RuleBasedMaterialExtractor: tables', () => {
  for (const [how, separator] of [
    ['tabs', '\t'],
    ['runs of spaces', '   '],
    ['single spaces', ' '],
  ] as const) {
    it(`reads one product per row (rows of one name merged), cells joined by ${how}`, async () => {
      const materials = await extract(['Porcelain stoneware collection', ...TABLE.map((row) => row.join(separator))].join('\n'));
      for (const material of materials) expect(MaterialSchema.strict().parse(material)).toEqual(material);
      expect(names(materials)).toEqual(['Dune Sand', 'Harbour Grey', 'Shell White']);
      const dune = byName(materials, 'Dune Sand');
      expect(sizes(dune)).toEqual([
        [600, 600],
        [300, 600],
      ]);
      expect(dune).toMatchObject({ thicknessMm: 9, finish: 'matt', productCategory: 'tile', category: 'ceramic', pages: [1] });
      expect(dune?.properties).toEqual({ slipRating: 'R10', pei: 4 });
      expect(byName(materials, 'Harbour Grey')).toMatchObject({ thicknessMm: 20, finish: 'structured', properties: { slipRating: 'R11', pei: 5 } });
      expect(dune?.excerpt).toContain('Dune Sand');
    });
  }

  it('reads German, Italian, Spanish and French headers, units in the header and decimal commas', async () => {
    const materials = await extractor.extract(
      [
        { page: 1, text: 'Artikel\tGröße\tStärke (cm)\tOberfläche\nKashmir White\t60 x 30 cm\t2\tgeschliffen' },
        { page: 2, text: 'Articolo\tFormato\tSpessore\tFinitura\nGrigio Carnico\t30x60 cm\t9 mm\tStrutturato' },
        { page: 3, text: 'Modelo\tMedidas\tEspesor\tAcabado\nArena Beige\t45x90 cm\t10,5 mm\tMate' },
        { page: 4, text: "Décor\tDimensions (mm)\tÉpaisseur\tCouche d'usure\nBéton Urbain\t610 x 305\t5 mm\t0,55 mm" },
      ],
      signal,
    );
    expect(byName(materials, 'Kashmir White')).toMatchObject({ thicknessMm: 20, finish: 'honed', formats: [{ valuesMm: [600, 300] }] });
    expect(byName(materials, 'Grigio Carnico')).toMatchObject({ thicknessMm: 9, finish: 'structured' });
    expect(byName(materials, 'Arena Beige')).toMatchObject({ thicknessMm: 10.5, finish: 'matt', formats: [{ valuesMm: [450, 900] }] });
    expect(byName(materials, 'Béton Urbain')).toMatchObject({ thicknessMm: 5, formats: [{ valuesMm: [610, 305] }], properties: { wearLayerMm: 0.55 } });
  });

  it('gives a format table without a name column to the heading above it', async () => {
    const materials = await extract('TAJ MAHAL\nQuarzit aus Indien.\nFormat  Stärke  Oberfläche\n60 x 30 cm  2 cm  poliert\n120 x 60 cm  3 cm  poliert');
    expect(names(materials)).toEqual(['TAJ MAHAL']);
    expect(materials[0]).toMatchObject({ productCategory: 'stone', material: 'quartzite', thicknessMm: 20, finish: 'polished' });
    expect(sizes(materials[0])).toEqual([
      [600, 300],
      [1200, 600],
    ]);
  });
});

describe('RuleBasedMaterialExtractor: product blocks and specification lists', () => {
  it('reads upper-case, numbered and title-case trade names with their specifications', async () => {
    const materials = await extract(
      [
        'G654',
        'Granit aus China, dunkelgrau.',
        'Formate: 60 x 40 cm, 80 x 40 cm',
        'Stärke: 3 cm',
        'Oberfläche: geflammt',
        'Rohdichte: 2.650 kg/m³',
        'Wasseraufnahme: 0,2 %',
        'Herkunft: China',
        '',
        'Nordic Oak Natural',
        'Species: European oak | Grade: Nature',
        'Dimensions: 1900 x 190 x 14 mm',
        'Wear layer: 3 mm',
        'Finish: UV-oiled',
      ].join('\n'),
    );
    expect(names(materials)).toEqual(['G654', 'Nordic Oak Natural']);
    expect(byName(materials, 'G654')).toMatchObject({
      productCategory: 'stone',
      material: 'granite',
      thicknessMm: 30,
      finish: 'flamed',
      properties: { densityKgM3: 2650, waterAbsorptionPct: 0.2, origin: 'China' },
    });
    expect(sizes(byName(materials, 'G654'))).toEqual([
      [600, 400],
      [800, 400],
    ]);
    expect(byName(materials, 'Nordic Oak Natural')).toMatchObject({
      productCategory: 'wood-flooring',
      thicknessMm: 14,
      finish: 'uv-oiled',
      formats: [{ valuesMm: [1900, 190] }],
      properties: { species: 'oak', grade: 'Nature', wearLayerMm: 3 },
    });
  });

  it('keeps the product through its subsections, and reads label/value columns joined by a tab or a space', async () => {
    const materials = await extract(
      [
        'Eiche Rustikal',
        'Technische Daten',
        'Holzart\tEiche',
        'Sortierung Rustikal',
        'Nutzschicht 3,5 mm',
        'Formate',
        '1900 x 190 x 14 mm',
        '2200 x 220 x 15 mm',
        'Pflege',
        'Finish the boards with a maintenance oil once a year; clean with a damp mop, 10 mm of water is too much.',
      ].join('\n'),
    );
    expect(names(materials)).toEqual(['Eiche Rustikal']);
    expect(materials[0]).toMatchObject({ productCategory: 'wood-flooring', thicknessMm: 14, finish: null, properties: { species: 'oak', grade: 'Rustikal', wearLayerMm: 3.5 } });
    expect(sizes(materials[0])).toEqual([
      [1900, 190],
      [2200, 220],
    ]);
  });

  it('takes a subtitle of category words as the product\'s category, not as its name', async () => {
    const materials = await extract(['Calacatta Oro', 'Porcelain Stoneware', 'Format: 60x120 cm', 'Finish: Polished', 'Basaltina', 'Natural Stone', 'Thickness: 3 cm'].join('\n'));
    expect(names(materials)).toEqual(['Basaltina', 'Calacatta Oro']);
    expect(byName(materials, 'Calacatta Oro')).toMatchObject({ productCategory: 'tile', material: 'porcelain stoneware', finish: 'polished' });
    expect(byName(materials, 'Basaltina')).toMatchObject({ productCategory: 'stone', thicknessMm: 30 });
  });

  it('reads caption grids and bilingual headers', async () => {
    const materials = await extract(
      [
        'MARMI',
        'CALACATTA ORO 60x120\tSTATUARIO 60x60 cm 9 mm',
        'Nome / Name\tFormato / Size\tSpessore / Thickness',
        'Grigio Carnico\t30x60 cm\t9 mm',
        'Articolo / Item Formato / Size Spessore / Thickness',
        'Nero Marquina 60x120 cm 10 mm',
      ].join('\n'),
    );
    expect(names(materials)).toEqual(['CALACATTA ORO', 'Grigio Carnico', 'Nero Marquina', 'STATUARIO']);
    expect(byName(materials, 'CALACATTA ORO')?.formats?.[0]?.valuesMm).toEqual([600, 1200]);
    expect(byName(materials, 'STATUARIO')).toMatchObject({ thicknessMm: 9, formats: [{ valuesMm: [600, 600] }] });
    expect(byName(materials, 'Grigio Carnico')).toMatchObject({ thicknessMm: 9, formats: [{ valuesMm: [300, 600] }] });
    expect(byName(materials, 'Nero Marquina')).toMatchObject({ thicknessMm: 10, formats: [{ valuesMm: [600, 1200] }] });
  });

  it('keeps one-line product descriptions', async () => {
    const materials = await extract('Carrara marble tile 60x60 cm, polished, 10 mm\nNatural oak plank 1200 x 200 mm, oiled, 14 mm thick.');
    expect(materials.map((material) => material.key)).toEqual(['carrara-marble-600x600mm-10mm-polished', 'natural-oak-1200x200mm-14mm-oiled']);
    expect(byName(materials, 'Natural oak')?.productCategory).toBe('wood-flooring');
  });
});

describe('RuleBasedMaterialExtractor: what is not a product', () => {
  it('rejects prose, however many material words it has', async () => {
    const materials = await extract(
      [
        'ATELIER',
        'Our story began in a small workshop inspired by the pale limestone of the coast, where craftsmen',
        'mount every piece on a steel bracket and finish it by hand until its edge is sharp as glass.',
        'Oak darkens, marble softens and terracotta gathers the warmth of the years.',
      ].join('\n'),
    );
    expect(materials).toEqual([]);
  });

  it('rejects contents pages, titled or by their page numbers', async () => {
    expect(await extract('Inhalt\nTAJ MAHAL 4\nG654 6\nCalacatta Oro Feinsteinzeug 60x120 cm 10')).toEqual([]);
    expect(await extract('Calacatta Oro .......... 12\nTAJ MAHAL .......... 14\nG654 .......... 16\nNero Assoluto .......... 18')).toEqual([]);
  });

  it("rejects an installation guide's tools and steps", async () => {
    const materials = await extract(
      [
        'TOOLS REQUIRED',
        'Notched trowel 10 mm',
        'Tile spacers 3 mm',
        'Rubber mallet',
        'Spirit level 1200 mm',
        'Step 2 Laying',
        'Spread the adhesive and back-butter large formats such as 60x120 cm.',
        'Lay the porcelain tiles with a joint of at least 2 mm.',
        'Consejos de colocación',
        'Utilice un adhesivo cementoso C2 y una llana dentada de 10 mm.',
      ].join('\n'),
    );
    expect(materials).toEqual([]);
  });

  it('takes extra dictionary terms', async () => {
    const custom = new RuleBasedMaterialExtractor({ extraTerms: { 'sintered stone': 'composite' } });
    const [material] = await custom.extract([{ page: 1, text: 'Sintered stone worktop 12 mm' }], signal);
    expect(material).toMatchObject({ material: 'sintered stone', category: 'composite', thicknessMm: 12 });
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(extractor.extract([{ page: 1, text: 'oak' }], controller.signal)).rejects.toThrow('cancelled');
  });
});

describe('material keys and merging', () => {
  const base = { name: 'Carrara marble', dimensions: { text: '60x60 cm', valuesMm: [600, 600] }, thicknessMm: 10, finish: 'polished', colour: null };

  it('builds stable keys from name and attributes', () => {
    expect(materialKey(base)).toBe('carrara-marble-600x600mm-10mm-polished');
    expect(materialKey({ ...base, name: 'Crème Brûlée marble', thicknessMm: 12.5 })).toBe('creme-brulee-marble-600x600mm-12.5mm-polished');
    expect(materialKey({ name: '大理石', dimensions: null, thicknessMm: null, finish: null, colour: null })).toMatch(/^m[0-9a-f]{12}$/);
  });

  it('merges mentions by key, uniting pages, formats and properties', () => {
    const material = (pages: number[], extra: Partial<Material> = {}): Material => ({ ...base, key: materialKey(base), material: 'marble', category: 'stone', pages, excerpt: '', extractor: 'rules', ...extra });
    expect(mergeMaterials([material([3]), material([1, 3])]).map((m) => m.pages)).toEqual([[1, 3]]);
    const [merged] = mergeMaterials([
      material([1], { formats: [base.dimensions], properties: { origin: 'Italy' } }),
      material([2], { formats: [{ text: '30x60 cm', valuesMm: [300, 600] }], properties: { slipRating: 'R9' } }),
    ]);
    expect(merged?.formats?.map((format) => format.valuesMm)).toEqual([
      [600, 600],
      [300, 600],
    ]);
    expect(merged?.properties).toEqual({ origin: 'Italy', slipRating: 'R9' });
  });

  it('still reads materials written before the product fields existed', () => {
    const old = { ...base, key: materialKey(base), material: 'marble', category: 'stone', pages: [1], excerpt: '', extractor: 'rules' };
    expect(MaterialSchema.parse(old)).toEqual(old);
  });
});
