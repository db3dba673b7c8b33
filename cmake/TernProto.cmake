# tern_proto_library(NAME <target> PROTOS <files...> [GRPC] [DEPS <targets...>])
# Generates C++ (and with GRPC, gRPC service stubs) into the build tree and wraps them in a
# static library whose include root is the generated directory, so code includes
# "gateway.pb.h" or "tern/record.pb.h" by the path the .proto has under proto/.
find_program(TERN_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

function(tern_proto_library)
  cmake_parse_arguments(ARG "GRPC" "NAME" "PROTOS;DEPS" ${ARGN})
  set(out_dir ${CMAKE_BINARY_DIR}/generated)
  file(MAKE_DIRECTORY ${out_dir})
  set(sources)
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/proto ${abs})
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    set(outs ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.pb.h)
    set(plugin_args)
    if(ARG_GRPC)
      list(APPEND outs ${out_dir}/${stem}.grpc.pb.cc ${out_dir}/${stem}.grpc.pb.h)
      set(plugin_args --grpc_out=${out_dir} --plugin=protoc-gen-grpc=${TERN_GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc -I${PROJECT_SOURCE_DIR}/proto --cpp_out=${out_dir} ${plugin_args} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "protoc ${rel}"
      VERBATIM)
    list(APPEND sources ${outs})
  endforeach()
  add_library(${ARG_NAME} STATIC ${sources})
  target_include_directories(${ARG_NAME} PUBLIC ${out_dir})
  # Generated code is not ours to warn about.
  target_compile_options(${ARG_NAME} PRIVATE -Wno-unused-parameter -Wno-error)
  target_link_libraries(${ARG_NAME} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${ARG_NAME} PUBLIC gRPC::grpc++)
  endif()
endfunction()
