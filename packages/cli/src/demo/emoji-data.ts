// The demo's emoji set: shortcode → character. One of them, :doughnut:, always fails to be voted
// for (see the voting service), so the golden metrics have a real failure to show.
export interface Emoji {
  readonly shortcode: string;
  readonly unicode: string;
}

const CODES: readonly [string, number][] = [
  ['joy', 0x1f602],
  ['sunglasses', 0x1f60e],
  ['doughnut', 0x1f369],
  ['stuck_out_tongue_winking_eye', 0x1f61c],
  ['money_mouth_face', 0x1f911],
  ['flushed', 0x1f633],
  ['mask', 0x1f637],
  ['nerd_face', 0x1f913],
  ['ghost', 0x1f47b],
  ['skull_and_crossbones', 0x2620],
  ['heart_eyes_cat', 0x1f63b],
  ['hear_no_evil', 0x1f649],
  ['see_no_evil', 0x1f648],
  ['speak_no_evil', 0x1f64a],
  ['boy', 0x1f466],
  ['girl', 0x1f467],
  ['man', 0x1f468],
  ['woman', 0x1f469],
  ['older_man', 0x1f474],
  ['policeman', 0x1f46e],
  ['guardsman', 0x1f482],
  ['construction_worker', 0x1f477],
  ['rocket', 0x1f680],
  ['rainbow', 0x1f308],
  ['pizza', 0x1f355],
  ['taco', 0x1f32e],
  ['bento', 0x1f371],
  ['cookie', 0x1f36a],
  ['champagne', 0x1f37e],
  ['tumbler_glass', 0x1f943],
  ['crystal_ball', 0x1f52e],
  ['balloon', 0x1f388],
  ['unicorn_face', 0x1f984],
  ['dog', 0x1f436],
  ['cat', 0x1f431],
  ['panda_face', 0x1f43c],
  ['penguin', 0x1f427],
  ['octopus', 0x1f419],
  ['tada', 0x1f389],
  ['100', 0x1f4af],
];

export const EMOJIS: readonly Emoji[] = Object.freeze(
  CODES.map(([name, code]) => Object.freeze({ shortcode: `:${name}:`, unicode: String.fromCodePoint(code) })),
);

/** The vote that always fails. */
export const FAILING_SHORTCODE = ':doughnut:';

export const findEmoji = (shortcode: string): Emoji | undefined =>
  EMOJIS.find((e) => e.shortcode === shortcode);
