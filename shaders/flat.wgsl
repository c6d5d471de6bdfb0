// Flat colour for the markings on the floor (zones, their edges and hatching, material-flow
// ribbons): the material's colour, times the mesh's vertex colours if it has them, with no
// light at all, then fogged, tone-mapped and dithered as Bevy's own unlit materials are.
//
// Bevy's standard material decides "unlit" at run time, and a software renderer (llvmpipe)
// runs both sides of such a branch: every zone pixel paid for the full lighting it then threw
// away. Here there is only the unlit side.

#import bevy_pbr::{
    forward_io::{VertexOutput, FragmentOutput},
    pbr_bindings::material,
    pbr_functions::main_pass_post_lighting_processing,
    pbr_types,
}

@fragment
fn fragment(in: VertexOutput) -> FragmentOutput {
    var colour = material.base_color;
#ifdef VERTEX_COLORS
    colour = colour * in.color;
#endif
    // What Bevy's post-lighting step reads: where the fragment is, and the material's flags
    // (fog, alpha mode).
    var input = pbr_types::pbr_input_new();
    input.frag_coord = in.position;
    input.world_position = in.world_position;
    input.material.flags = material.flags;
    var out: FragmentOutput;
    out.color = main_pass_post_lighting_processing(input, colour);
    return out;
}
