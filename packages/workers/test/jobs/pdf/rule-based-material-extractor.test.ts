import { describe, expect, it } from 'vitest';
import { materialKey, MaterialSchema, mergeMaterials, RuleBasedMaterialExtractor, type Material } from '@kai-jobs/workers';

const signal = new AbortController().signal;
const extractor = new RuleBasedMaterialExtractor();
const pick = (material: Material | undefined) =>
  material && { name: material.name, dimensions: material.dimensions?.valuesMm ?? null, thicknessMm: material.thicknessMm, finish: material.finish, colour: material.colour, pages: material.pages };

describe('RuleBasedMaterialExtractor', () => {
  it('finds dictionary materials with variety, dimensions, finish, colour and thickness, with page references', async () => {
    const materials = await extractor.extract(
      [
        { page: 1, text: 'Welcome to our showroom.' },
        { page: 2, text: 'Carrara marble tile 60x60 cm, polished, 10 mm' },
        { page: 3, text: 'Anthracite porcelain stoneware 600 x 1200 mm, matt finish, thickness: 9 mm.\n\nBrushed stainless steel trim, 2.5 m long.' },
        { page: 4, text: 'Our Carrara marble is quarried in Tuscany.' },
      ],
      signal,
    );
    // Exactly the schema's fields: nothing internal leaks into what the store saves.
    for (const material of materials) expect(MaterialSchema.strict().parse(material)).toEqual(material);
    const byMaterial = new Map(materials.map((material) => [material.material, material]));
    expect(pick(byMaterial.get('marble'))).toEqual({ name: 'Carrara marble', dimensions: [600, 600], thicknessMm: 10, finish: 'polished', colour: null, pages: [2, 4] });
    expect(pick(byMaterial.get('porcelain stoneware'))).toEqual({
      name: 'porcelain stoneware',
      dimensions: [600, 1200],
      thicknessMm: 9,
      finish: 'matt',
      colour: 'anthracite',
      pages: [3],
    });
    expect(byMaterial.get('porcelain stoneware')?.category).toBe('ceramic');
    expect(pick(byMaterial.get('stainless steel'))).toMatchObject({ finish: 'brushed', thicknessMm: null, pages: [3] });
    expect(byMaterial.get('stainless steel')?.category).toBe('metal');
    expect(materials).toHaveLength(3); // the bare "Carrara marble" of page 4 folded into the tile
  });

  it('gives each material the attributes written after it in the sentence', async () => {
    const materials = await extractor.extract(
      [{ page: 7, text: 'Natural oak plank 1200 x 200 mm, oiled, 14 mm thick, laid next to Nero Marquina marble 30x60 cm, honed.' }],
      signal,
    );
    expect(materials.map((material) => material.key)).toEqual(['marquina-marble-300x600mm-honed-black', 'oak-1200x200mm-14mm-oiled']);
  });

  it('joins a sentence broken across lines and keeps separate lines separate', async () => {
    const materials = await extractor.extract([{ page: 1, text: 'Honed travertine tiles in\nsize 40x40 cm.\nWalnut veneer panel' }], signal);
    expect(materials.map((material) => material.key)).toEqual(['travertine-400x400mm-honed', 'walnut']);
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

  it('merges mentions by key, uniting pages', () => {
    const material = (pages: number[]): Material => ({ ...base, key: materialKey(base), material: 'marble', category: 'stone', pages, excerpt: '', extractor: 'rules' });
    expect(mergeMaterials([material([3]), material([1, 3])]).map((m) => m.pages)).toEqual([[1, 3]]);
  });
});
